// openid-client reads the errors a provider answers on the redirect: the test sends the
// browser's way through (a silent sign-in without a session, a cancelled consent) and
// writes the callback URL on stdin; this prints what openid-client made of it.
import * as client from "openid-client";
import { discover, lines, print } from "./provider.mjs";

const env = process.env;
const config = await discover(env.CLIENT_ID, env.CLIENT_SECRET);
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: env.REDIRECT_URI,
  scope: "openid email",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
  ...JSON.parse(env.EXTRA || "{}"),
});
print({ auth_url: authUrl.href });
const callback = (await lines.next()).value;
try {
  await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  print({ error: null });
} catch (error) {
  print({ error: error.error ?? null, name: error.name, message: error.message });
}
process.exit(0);
