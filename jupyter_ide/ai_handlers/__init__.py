"""The AI proxy: an OpenAI-compatible endpoint in front of the institution's providers."""
