"""JupyterHub for jupyter-ide: GitHub, Google or OIDC sign-in; roles from hub scopes; /ide home.

Environment (all but the provider's client id/secret have defaults):
  JUPYTER_IDE_OAUTH_PROVIDER   github | google | generic          (default github)
  OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_CALLBACK_URL          from your OAuth app
  JUPYTER_IDE_GITHUB_ORGS      comma-separated allowed GitHub organisations
  JUPYTER_IDE_GOOGLE_DOMAIN    the Google Workspace hosted domain whose people may sign in
  OIDC_ISSUER                  for generic: the provider's issuer URL (…/auth, …/token, …/me)
  OIDC_INTERNAL_URL            where the hub itself reaches the provider (…/token, …/me), when
                               not at OIDC_ISSUER (compose: the provider's name on a network)
  JUPYTERHUB_CONNECT_IP        the name or address user servers reach the hub's API at
  JUPYTER_IDE_SERVER_PREFIX    DockerSpawner: user containers are named <prefix>-<user>
  JUPYTER_IDE_ADMINS, JUPYTER_IDE_INSTRUCTORS   comma-separated user names
  JUPYTER_IDE_ALLOWED_USERS    comma-separated names allowed to sign in (besides those above)
  JUPYTER_IDE_ALLOWED_GROUPS   generic: the provider's groups whose members may sign in
  JUPYTER_IDE_ALLOW_ALL        1 = anyone the provider signs in may use the hub. Off by default:
                               without an organisation, a domain or the lists above, nobody
                               else gets in (`jupyter ide doctor --hub-config` warns when open)
  JUPYTERHUB_CRYPT_KEY         required: encrypts auth state (openssl rand -hex 32)
  JUPYTER_IDE_SINGLEUSER_IMAGE the user image, with jupyter-ide installed (DockerSpawner)
  JUPYTER_IDE_SERVICE          managed | external: run the jupyter-ide service (`jupyter ide
                               service`) at /services/ide/, the only holder of the database,
                               Redis, S3, crypt and AI settings (SERVICE_VARIABLES below); unset:
                               no service, and user servers get the database and Redis URLs
  JUPYTER_IDE_SERVICE_URL      where the hub and its proxy reach the service
                               (default http://127.0.0.1:10101)
  JUPYTER_IDE_USER_SERVICE_URL where user servers reach the service, with its prefix (default
                               JUPYTER_IDE_SERVICE_URL + /services/ide/); user servers get it as
                               their JUPYTER_IDE_SERVICE_URL and then keep no files, kernels or
                               terminals of their own: all are the service's (jupyter_ide/hubclient)
  JUPYTER_IDE_SERVICE_TOKEN    external only: the service's hub API token (openssl rand -hex 32);
                               start the service with JUPYTERHUB_API_TOKEN set to it, and
                               JUPYTERHUB_API_URL, JUPYTERHUB_SERVICE_URL
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
    internal = os.environ.get("OIDC_INTERNAL_URL", "").rstrip("/") or issuer
    c.GenericOAuthenticator.authorize_url = f"{issuer}/auth"  # the browser's
    c.GenericOAuthenticator.token_url = f"{internal}/token"  # the hub's own calls
    c.GenericOAuthenticator.userdata_url = f"{internal}/me"
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

# --- The jupyter-ide service: the one process holding shared state and secrets ------------
# The settings only the service may hold: user servers run students' code, so whatever their
# environment holds, a student can read. The hub passes these to the service alone.
SERVICE_VARIABLES = (
    "JUPYTER_IDE_DB_URL",
    "JUPYTER_IDE_REDIS_URL",
    "JUPYTER_IDE_STORAGE_URL",
    "JUPYTER_IDE_S3_ENDPOINT_URL",
    "JUPYTER_IDE_S3_REGION",
    "JUPYTER_IDE_S3_SSE",
    "JUPYTER_IDE_S3_KMS_KEY_ID",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "JUPYTER_IDE_CRYPT_KEY",
    "JUPYTER_IDE_AI_POOL_URL",
    "JUPYTER_IDE_AI_POOL_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "JUPYTER_IDE_SANDBOX",
    "JUPYTER_IDE_SANDBOX_RUNTIME",
    "JUPYTER_IDE_JUDGE_WORKERS",
    "JUPYTER_IDE_QUOTA_BYTES",
    "JUPYTER_IDE_QUOTA_FILES",
    "JUPYTER_IDE_WORKSPACE_VOLUME",
    "JUPYTER_IDE_WORKSPACE_BYTES",
    "JUPYTER_IDE_IMAGE_HOSTS",
    "JUPYTER_IDE_PASTE_THRESHOLD",
    "JUPYTER_IDE_EDIT_BURST_SECONDS",
    "JUPYTER_IDE_ONLINE_SECONDS",
    "JUPYTER_IDE_ACTIVITY_RETENTION_DAYS",
    "JUPYTER_IDE_ACTIVITY_REPORTS_PER_MINUTE",
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)
IDE_SCOPES = ["custom:ide:instructor", "custom:ide:admin"]
service_mode = os.environ.get("JUPYTER_IDE_SERVICE", "").strip().lower()
if service_mode not in ("", "managed", "external"):
    raise ValueError(
        f"JUPYTER_IDE_SERVICE={service_mode!r}: use managed, external or leave it unset"
    )
if service_mode:
    ide_service: dict[str, object] = {
        "name": "ide",
        "url": os.environ.get("JUPYTER_IDE_SERVICE_URL", "http://127.0.0.1:10101"),
        # A caller's OAuth token for the service carries the custom scopes they hold: roles.
        "oauth_client_allowed_scopes": IDE_SCOPES,
        # The institution's own IDE: no "authorize access?" page between a user and it.
        "oauth_no_confirm": True,
    }
    if service_mode == "managed":  # jupyter-ide (and jupyterhub) installed beside the hub
        ide_service["command"] = ["jupyter", "ide", "service"]
        ide_service["environment"] = {
            name: os.environ[name] for name in SERVICE_VARIABLES if os.environ.get(name)
        }
        # A first start migrates the database and checks the sandbox images, longer than the
        # 30 s JupyterHub 6 waits by default before it gives up and exits (5 has no such field).
        from jupyterhub.services.service import Service

        if Service.class_traits().get("timeout") is not None:
            ide_service["timeout"] = 120
    elif os.environ.get("JUPYTER_IDE_SERVICE_TOKEN"):
        ide_service["api_token"] = os.environ["JUPYTER_IDE_SERVICE_TOKEN"]
    else:
        raise ValueError(
            "JUPYTER_IDE_SERVICE=external needs JUPYTER_IDE_SERVICE_TOKEN: the service's hub "
            "API token (openssl rand -hex 32), also its JUPYTERHUB_API_TOKEN"
        )
    c.JupyterHub.services = [ide_service]
    # Every user may use the service (the default user role is "self" only).
    c.JupyterHub.load_roles.append(
        {"name": "user", "scopes": ["self", "access:services!service=ide"]}
    )
    # A user's server reaches the service with its own JUPYTERHUB_API_TOKEN (the hub grants
    # the custom scopes only to those who hold them).
    c.Spawner.server_token_scopes = [
        "users:activity!user",
        "access:servers!server",
        "access:services!service=ide",
        *IDE_SCOPES,
    ]

# --- Each user's server: jupyter-ide opens at /ide and may see the custom scopes -----------
c.Spawner.default_url = "/ide"
c.Spawner.oauth_client_allowed_scopes = IDE_SCOPES
c.Spawner.environment = {"JUPYTER_IDE_SANDBOX": os.environ.get("JUPYTER_IDE_SANDBOX", "auto")}
if service_mode:  # each user's server is the service's client: files, kernels, the IDE's APIs
    service_url = str(ide_service["url"]).rstrip("/")
    c.Spawner.environment["JUPYTER_IDE_SERVICE_URL"] = os.environ.get(
        "JUPYTER_IDE_USER_SERVICE_URL", f"{service_url}/services/ide/"
    )
if not service_mode:  # without the service, each user's server holds the shared state itself
    c.Spawner.environment.update(
        {
            "JUPYTER_IDE_DB_URL": os.environ.get("JUPYTER_IDE_DB_URL", ""),
            "JUPYTER_IDE_REDIS_URL": os.environ.get("JUPYTER_IDE_REDIS_URL", ""),
        }
    )
if os.environ.get("JUPYTER_IDE_SINGLEUSER_IMAGE"):
    c.JupyterHub.spawner_class = "docker"
    c.DockerSpawner.image = os.environ["JUPYTER_IDE_SINGLEUSER_IMAGE"]
    c.DockerSpawner.network_name = os.environ.get("DOCKER_NETWORK_NAME", "jupyter-ide")
    c.DockerSpawner.use_internal_ip = True  # the proxy reaches each server on that network
    # With the service a server keeps nothing (files and kernels are the service's): remove it.
    c.DockerSpawner.remove = bool(service_mode)
    c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 - containers reach the hub over their network
    if os.environ.get("JUPYTERHUB_CONNECT_IP"):
        c.JupyterHub.hub_connect_ip = os.environ["JUPYTERHUB_CONNECT_IP"]
    if os.environ.get("JUPYTER_IDE_SERVER_PREFIX"):
        c.DockerSpawner.prefix = os.environ["JUPYTER_IDE_SERVER_PREFIX"]
