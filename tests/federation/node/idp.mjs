// A real OpenID Provider on loopback for the federation tests: node oidc-provider with one
// confidential client (PKCE required) and the accounts the test passes, signing in with the
// provider's own development login and consent pages (any password).
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ACCOUNTS (JSON: id -> claims).
import Provider from "oidc-provider";

const env = process.env;
const issuer = `http://127.0.0.1:${env.PORT}`;
const accounts = JSON.parse(env.ACCOUNTS);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.CLIENT_ID,
      client_secret: env.CLIENT_SECRET,
      redirect_uris: [env.REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["given_name", "family_name"],
  },
  findAccount: async (ctx, id) =>
    accounts[id] && { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) },
  cookies: { keys: ["federation-test-cookie-key"] },
  features: { devInteractions: { enabled: true } },
});
provider.listen(Number(env.PORT), "127.0.0.1", () => process.stdout.write("ready\n"));
