// Drives a tenant's OpenID Connect provider with openid-client: client credentials, then
// authorization code + PKCE (the test signs the user in and sends back the callback URL on
// stdin), ID token checks including its signature against the JWKS, then a refresh.
import * as client from "openid-client";
import { discover, lines, print } from "./provider.mjs";

const env = process.env;
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
