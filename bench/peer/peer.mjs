// The peer of bench/peer.py: node oidc-provider with one confidential client allowed the
// client credentials grant, issuing RS256 JWT access tokens (resource indicators with a
// default resource), keys and store in memory. Environment: PORT, CLIENT_ID, CLIENT_SECRET.
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const env = process.env;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const key = { ...privateKey.export({ format: "jwk" }), alg: "RS256", use: "sig", kid: "bench" };
const resource = "urn:ciam:bench";

const provider = new Provider(`http://127.0.0.1:${env.PORT}`, {
  clients: [
    {
      client_id: env.CLIENT_ID,
      client_secret: env.CLIENT_SECRET,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  jwks: { keys: [key] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "api",
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  scopes: ["api"],
});
provider.listen(Number(env.PORT), "127.0.0.1", () => process.stdout.write("ready\n"));
