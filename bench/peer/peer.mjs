// The peer of bench/peer.py: node oidc-provider, keys and store in memory, RS256 JWT access
// tokens (resource indicators with a default resource), two confidential clients:
// - CLIENT_ID: the client credentials grant;
// - WEB_CLIENT_ID: authorization code + PKCE and refresh tokens (rotating, as ours), for one
//   user, "bench-user". devInteractions are off: /interaction/:uid is a scripted interaction
//   that signs that user in and grants what the client asked for, as a person clicking
//   through the sign-in and consent pages would.
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, WEB_CLIENT_ID, WEB_CLIENT_SECRET, REDIRECT_URI.
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const env = process.env;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const key = { ...privateKey.export({ format: "jwk" }), alg: "RS256", use: "sig", kid: "bench" };
const resource = "urn:ciam:bench";
const user = "bench-user";

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
    {
      client_id: env.WEB_CLIENT_ID,
      client_secret: env.WEB_CLIENT_SECRET,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [env.REDIRECT_URI],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  jwks: { keys: [key] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: "member@acme.example", email_verified: true }),
  }),
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  rotateRefreshToken: () => true, // as this project does on every refresh
  // Its offline_access needs prompt=consent (a consent page on every round trip): instead the
  // web client always gets a refresh token, as an app of ours with "always refresh" does.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
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
  scopes: ["openid", "email", "offline_access", "api"],
});

// The scripted interaction: sign-in, then consent to everything the client asked for.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === "login") {
    result = { login: { accountId: user } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: true,
  });
  ctx.redirect(returnTo);
});

provider.listen(Number(env.PORT), "127.0.0.1", () => process.stdout.write("ready\n"));
