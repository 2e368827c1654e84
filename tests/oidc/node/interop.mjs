// Drives a tenant's OpenID Connect provider with openid-client: client credentials, then
// authorization code + PKCE (the test signs the user in and sends back the callback URL on
// stdin), ID token checks including its signature against the JWKS, then a refresh.
import { readFileSync } from "node:fs";
import readline from "node:readline";
import * as client from "openid-client";
import { Agent, fetch as undiciFetch } from "undici";

const env = process.env;
// Tenant hosts are <slug>.localhost: resolve every name to loopback, trust the test CA.
const agent = new Agent({
  connect: {
    ca: readFileSync(env.CA_FILE),
    lookup: (hostname, options, callback) =>
      options && options.all
        ? callback(null, [{ address: "127.0.0.1", family: 4 }])
        : callback(null, "127.0.0.1", 4),
  },
});
const fetchVia = (url, options) => undiciFetch(url, { ...options, dispatcher: agent });
const discover = (clientId, secret) =>
  client.discovery(new URL(env.ISSUER), clientId, secret, undefined, {
    [client.customFetch]: fetchVia,
  });
const print = (data) => process.stdout.write(JSON.stringify(data) + "\n");
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

const daemon = await discover(env.DAEMON_ID, env.DAEMON_SECRET);
const appToken = await client.clientCredentialsGrant(daemon, { scope: env.API_SCOPE });

const config = await discover(env.CLIENT_ID, env.CLIENT_SECRET);
client.enableNonRepudiationChecks(config);
const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: env.REDIRECT_URI,
  scope: "openid email offline_access",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  nonce,
  state,
});
print({ auth_url: authUrl.href });
const callback = (await lines.next()).value;
const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedNonce: nonce,
  expectedState: state,
});
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
print({
  app_access_token: appToken.access_token,
  id_claims: tokens.claims(),
  access_token: tokens.access_token,
  refreshed_access_token: refreshed.access_token,
  refresh_rotated: refreshed.refresh_token !== tokens.refresh_token,
});
process.exit(0);
