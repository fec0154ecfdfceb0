// A local OpenID Connect provider for the JupyterHub end-to-end test (never a real one).
// Usage: node oidc_provider.mjs PORT REDIRECT_URI CLIENT_SECRET [LISTEN_HOST [ISSUER]]
// (defaults 127.0.0.1 and http://127.0.0.1:PORT; the compose test listens in a container)
// Any login name is accepted; a name starting with "teacher" is in the "instructors" group and
// teaches cs101, any other name is in "students" and takes cs101. The dev login and consent
// pages are oidc-provider's own.
import Provider from 'oidc-provider';

const [port, redirectUri, clientSecret, listenHost = '127.0.0.1', issuer = ''] =
  process.argv.slice(2);
if (!port || !redirectUri || !clientSecret) {
  console.error('usage: node oidc_provider.mjs PORT REDIRECT_URI CLIENT_SECRET');
  process.exit(2);
}

function groupsOf(name) {
  return name.startsWith('teacher')
    ? ['instructors', 'course-cs101-instructors']
    : ['students', 'course-cs101'];
}

const provider = new Provider(issuer || `http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'jupyterhub',
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['openid', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: id, preferred_username: id, groups: groupsOf(id) };
      },
    };
  },
  cookies: { keys: ['jupyter-ide-test-only-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(Number(port), listenHost, () => {
  console.log(`oidc-provider listening on http://${listenHost}:${port}`);
});
