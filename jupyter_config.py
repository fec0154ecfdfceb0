# A full jupyter-ide deployment's config, commented. Copy it to a Jupyter config dir as
# jupyter_server_config.py (or set the JUPYTER_IDE_* environment variables instead: every
# setting below also reads one, which is how JupyterHub's singleuser.extraEnv sets them).
# ruff: noqa
c = get_config()  # type: ignore[name-defined]  # noqa: F821

# --- The IDE -------------------------------------------------------------------------------
c.ServerApp.jpserver_extensions = {"jupyter_ide": True}
c.ServerApp.default_url = "/ide"
# Files go through jupyter-ide's contents manager (path checks, size limit, atomic uploads).
c.ServerApp.contents_manager_class = "jupyter_ide.contents_manager.IDEContentsManager"
c.IDEContentsManager.max_file_size = 100 * 1024 * 1024  # bytes; 413 beyond it

# --- Roles --------------------------------------------------------------------------------
# Standalone, the server's only user is an admin. Under JupyterHub, roles come from the hub:
# custom scopes (custom:ide:admin, custom:ide:instructor), the hub admin flag, or groups.
c.RoleResolver.instructor_groups = ["teachers"]
c.RoleResolver.admin_groups = []

# --- Database (JUPYTER_IDE_DB_URL) ---------------------------------------------------------
# Default: a SQLite file in the Jupyter data dir. A deployment shares PostgreSQL (psycopg 3).
# Run `jupyter ide upgrade-db` after each upgrade; the server refuses to start on a mismatch.
c.IDESettings.db_url = "postgresql+psycopg://jupyter_ide:secret@postgres:5432/jupyter_ide"

# --- Cache, rate limits, quotas (JUPYTER_IDE_REDIS_URL) -----------------------------------
# Empty = in-process (one server only). Redis makes counters atomic across every server.
c.IDESettings.redis_url = "redis://redis:6379/0"

# --- Files (JUPYTER_IDE_STORAGE_URL, JUPYTER_IDE_S3_ENDPOINT_URL) -------------------------
# Default: a local folder in the Jupyter data dir (or a file:/// URL). S3 (or any S3 API,
# such as MinIO) keeps every user's files and history; `jupyter ide doctor` writes a probe.
# c.IDESettings.storage_url = "s3://classroom-files/ide"
# c.IDESettings.s3_endpoint_url = "http://minio:9000"  # empty for AWS itself

# --- Sandbox (JUPYTER_IDE_SANDBOX) ---------------------------------------------------------
# docker: kernels must run in Docker sandboxes; auto: Docker when an engine answers, else
# local kernels with a visible warning; local: no sandbox (single-user laptops only).
# Build the images once with `jupyter ide images build --offline` (make run does it).
c.IDESettings.sandbox = "auto"

# --- Remote images in /ide (JUPYTER_IDE_IMAGE_HOSTS) -------------------------------------
# /ide's Content-Security-Policy shows images from the server, data: and blob: only, so a
# notebook or an AI answer cannot send a student's code away in an image URL. List the
# origins (scheme and host, optional *. and port, no path) your course material needs.
# c.IDESettings.allowed_image_hosts = ["https://upload.wikimedia.org", "https://*.example.edu"]

# --- Secrets at rest (JUPYTER_IDE_CRYPT_KEY) ----------------------------------------------
# One or more Fernet keys separated by ';' — the first encrypts, all decrypt (rotation).
# c.IDESettings.crypt_key = "…"

# --- AI (JUPYTER_IDE_AI_POOL_URL, OPENAI_API_KEY, GEMINI_API_KEY) -------------------------
c.IDESettings.ai_pool_url = "http://vllm.internal:8000/v1"

# --- AI transcripts (JUPYTER_IDE_TRANSCRIPT_RETENTION_DAYS) -------------------------------
# Conversations with the AI made in a course are kept for the course's instructors (who read
# and export them) and the student (who reads their own); older ones are purged.
c.TeachingSettings.transcript_retention_days = 180

# --- Activity timeline and lab dashboard (JUPYTER_IDE_PASTE_THRESHOLD, ..._ONLINE_SECONDS) ---
# Pastes of at least this many characters are recorded as pastes (with the workspace file
# they came from); a student seen by /ide within online_seconds is online on the dashboard.
c.ActivitySettings.paste_threshold = 200
c.ActivitySettings.online_seconds = 60
c.ActivitySettings.retention_days = 365
