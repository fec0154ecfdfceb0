"""What the AI proxy may do: providers, routes and limits, as traitlets with env defaults."""

from __future__ import annotations

import os

from traitlets import Dict, Float, Int, List, Unicode, default
from traitlets.config import Configurable


class AISettings(Configurable):
    """Providers, the model routing table and per-user limits."""

    pool_url = Unicode(
        help="OpenAI-compatible endpoint of the institution's model pool (vLLM, Ollama, "
        "llama.cpp server). Env: JUPYTER_IDE_AI_POOL_URL.",
    ).tag(config=True)

    openai_base_url = Unicode(
        "https://api.openai.com/v1", help="OpenAI's API (or a compatible stand-in)."
    ).tag(config=True)

    openai_api_key = Unicode(help="The institution's OpenAI key. Env: OPENAI_API_KEY.").tag(
        config=True
    )

    routes = Dict(
        value_trait=List(Unicode()),
        help="Public model name -> providers to try in order ('*' matches any model). "
        "Default: every model to the pool when one is set, else to OpenAI when a key is set.",
    ).tag(config=True)

    max_tokens = Int(4096, help="Largest max_tokens a request may ask for.").tag(config=True)
    max_prompt_chars = Int(200_000, help="Largest prompt, in characters, a request may send.").tag(
        config=True
    )
    daily_tokens = Int(200_000, help="Tokens per user per UTC day.").tag(config=True)
    requests_per_minute = Int(30, help="Requests per user per minute.").tag(config=True)
    timeout = Float(60.0, help="Seconds to wait for a provider before trying the next.").tag(
        config=True
    )

    @default("pool_url")
    def _default_pool_url(self) -> str:
        return os.environ.get("JUPYTER_IDE_AI_POOL_URL", "").strip()

    @default("openai_api_key")
    def _default_openai_api_key(self) -> str:
        return os.environ.get("OPENAI_API_KEY", "").strip()

    @default("routes")
    def _default_routes(self) -> dict[str, list[str]]:
        providers = (["pool"] if self.pool_url else []) + (
            ["openai"] if self.openai_api_key else []
        )
        return {"*": providers} if providers else {}

    def providers_for(self, model: str) -> list[str]:
        """Return the providers to try for ``model``, best first (empty: not served)."""
        return list(self.routes.get(model) or self.routes.get("*") or [])
