// openid-client reads the errors a provider answers on the redirect: the test sends the
// browser's way through (a silent sign-in without a session, a cancelled consent) and
// writes the callback URL on stdin; this prints what openid-client made of it.
import { readFileSync } from "node:fs";
import readline from "node:readline";
import * as client from "openid-client";
import { Agent, fetch as undiciFetch } from "undici";

const env = process.env;
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
const print = (data) => process.stdout.write(JSON.stringify(data) + "\n");
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

const config = await client.discovery(
  new URL(env.ISSUER), env.CLIENT_ID, env.CLIENT_SECRET, undefined,
  { [client.customFetch]: fetchVia },
);
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
