"""JupyterHub for jupyter-ide: GitHub, Google or OIDC sign-in; roles from hub scopes; /ide home.

Environment (all but the provider's client id/secret have defaults):
  JUPYTER_IDE_OAUTH_PROVIDER   github | google | generic          (default github)
  OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_CALLBACK_URL          from your OAuth app
  JUPYTER_IDE_GITHUB_ORGS      comma-separated allowed GitHub organisations
  JUPYTER_IDE_GOOGLE_DOMAIN    the Google Workspace hosted domain whose people may sign in
  OIDC_ISSUER                  for generic: the provider's issuer URL (…/auth, …/token, …/me)
  JUPYTER_IDE_ADMINS, JUPYTER_IDE_INSTRUCTORS   comma-separated user names
  JUPYTER_IDE_ALLOWED_USERS    comma-separated names allowed to sign in (besides those above)
  JUPYTER_IDE_ALLOWED_GROUPS   generic: the provider's groups whose members may sign in
  JUPYTER_IDE_ALLOW_ALL        1 = anyone the provider signs in may use the hub. Off by default:
                               without an organisation, a domain or the lists above, nobody
                               else gets in (`jupyter ide doctor --hub-config` warns when open)
  JUPYTERHUB_CRYPT_KEY         required: encrypts auth state (openssl rand -hex 32)
  JUPYTER_IDE_SINGLEUSER_IMAGE the user image, with jupyter-ide installed (DockerSpawner)
The scope/role/allowed-scope wiring is the one tests/e2e/test_hub.py exercises end to end.
"""

import json
import os


def _names(variable: str) -> set[str]:
    """A comma-separated environment variable as a set of names."""
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


c = get_config()  # type: ignore[name-defined]  # noqa: F821

c.JupyterHub.bind_url = os.environ.get("JUPYTERHUB_BIND_URL", "http://0.0.0.0:8000")
c.JupyterHub.db_url = os.environ.get("JUPYTERHUB_DB_URL", "sqlite:///jupyterhub.sqlite")

# --- Sign-in ------------------------------------------------------------------------------
provider = os.environ.get("JUPYTER_IDE_OAUTH_PROVIDER", "github")
authenticator = {"github": "github", "google": "google", "generic": "generic-oauth"}[provider]
c.JupyterHub.authenticator_class = authenticator
oauth = {
    "github": c.GitHubOAuthenticator,
    "google": c.GoogleOAuthenticator,
    "generic": c.GenericOAuthenticator,
}[provider]
oauth.client_id = os.environ.get("OAUTH_CLIENT_ID", "")
oauth.client_secret = os.environ.get("OAUTH_CLIENT_SECRET", "")
oauth.oauth_callback_url = os.environ.get(
    "OAUTH_CALLBACK_URL", "http://localhost:8000/hub/oauth_callback"
)
oauth.enable_pkce = True
oauth.enable_auth_state = True  # needs JUPYTERHUB_CRYPT_KEY; keeps the OAuth identity
oauth.admin_users = _names("JUPYTER_IDE_ADMINS")
# Sign-in is closed unless the operator opens it: an OIDC provider or Google without a domain
# would otherwise let in anyone with an account there.
allow_all = os.environ.get("JUPYTER_IDE_ALLOW_ALL", "").strip().lower() in ("1", "true", "yes")
oauth.allow_all = allow_all
oauth.allowed_users = _names("JUPYTER_IDE_ALLOWED_USERS") | _names("JUPYTER_IDE_INSTRUCTORS")
if provider == "github":
    c.GitHubOAuthenticator.allowed_organizations = _names("JUPYTER_IDE_GITHUB_ORGS")
    c.GitHubOAuthenticator.scope = ["read:org"]
elif provider == "google":
    c.GoogleOAuthenticator.hosted_domain = sorted(_names("JUPYTER_IDE_GOOGLE_DOMAIN"))
    # The domain restricts who signs in; everyone in it is then allowed.
    c.GoogleOAuthenticator.allow_all = allow_all or bool(c.GoogleOAuthenticator.hosted_domain)
else:
    issuer = os.environ.get("OIDC_ISSUER", "").rstrip("/")
    c.GenericOAuthenticator.authorize_url = f"{issuer}/auth"
    c.GenericOAuthenticator.token_url = f"{issuer}/token"
    c.GenericOAuthenticator.userdata_url = f"{issuer}/me"
    c.GenericOAuthenticator.scope = ["openid", "profile", "groups"]
    c.GenericOAuthenticator.username_claim = "preferred_username"
    c.GenericOAuthenticator.manage_groups = True
    c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
    c.GenericOAuthenticator.allowed_groups = _names("JUPYTER_IDE_ALLOWED_GROUPS")

# --- Roles: the hub grants custom scopes; jupyter-ide's RoleResolver reads them ------------
c.JupyterHub.custom_scopes = {
    "custom:ide:instructor": {"description": "Teach in jupyter-ide: courses, usage, policy"},
    "custom:ide:admin": {"description": "Administer jupyter-ide"},
}
c.JupyterHub.load_roles = [
    {
        "name": "ide-instructor",
        "scopes": ["custom:ide:instructor"],
        "users": sorted(_names("JUPYTER_IDE_INSTRUCTORS")),
        "groups": ["instructors"] if provider == "generic" else [],
    },
    {
        "name": "ide-admin",
        "scopes": ["custom:ide:admin"],
        "users": sorted(_names("JUPYTER_IDE_ADMINS")),
    },
]

# --- Hand each server its user's OAuth identity (jupyter-ide records it in `users`) --------
USER_KEY = {"github": ("github_user", "id"), "google": ("google_user", "sub")}.get(
    provider, ("oauth_user", "sub")
)


def pass_oauth_identity(spawner: object, auth_state: dict[str, object] | None) -> None:
    """Give the single-user server {"provider", "id"} from the hub's auth state."""
    user = (auth_state or {}).get(USER_KEY[0])
    if isinstance(user, dict) and user.get(USER_KEY[1]) is not None:
        identity = {"provider": provider, "id": str(user[USER_KEY[1]])}
        spawner.environment["JUPYTER_IDE_OAUTH_IDENTITY"] = json.dumps(identity)  # type: ignore[attr-defined]


c.Spawner.auth_state_hook = pass_oauth_identity

# --- Each user's server: jupyter-ide opens at /ide and may see the custom scopes -----------
c.Spawner.default_url = "/ide"
c.Spawner.oauth_client_allowed_scopes = ["custom:ide:instructor", "custom:ide:admin"]
c.Spawner.environment = {
    "JUPYTER_IDE_SANDBOX": os.environ.get("JUPYTER_IDE_SANDBOX", "auto"),
    "JUPYTER_IDE_DB_URL": os.environ.get("JUPYTER_IDE_DB_URL", ""),
    "JUPYTER_IDE_REDIS_URL": os.environ.get("JUPYTER_IDE_REDIS_URL", ""),
}
if os.environ.get("JUPYTER_IDE_SINGLEUSER_IMAGE"):
    c.JupyterHub.spawner_class = "docker"
    c.DockerSpawner.image = os.environ["JUPYTER_IDE_SINGLEUSER_IMAGE"]
    c.DockerSpawner.network_name = os.environ.get("DOCKER_NETWORK_NAME", "jupyter-ide")
    c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 - containers reach the hub over their network
