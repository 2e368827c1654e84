// A single-page app as a browser runs it: code + PKCE through a redirect, then the token,
// userinfo, refresh and revocation endpoints called cross-origin with fetch. It writes what
// it read into #result and "done" into #status.
const config = document.body.dataset;

function report(data) {
  document.getElementById("result").textContent = JSON.stringify(data);
  document.getElementById("status").textContent = "done";
}

function base64url(buffer) {
  const text = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function start() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  sessionStorage.setItem("verifier", verifier);
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: "openid email offline_access",
    state: "spa-state",
    nonce: "spa-nonce",
    code_challenge: base64url(digest),
    code_challenge_method: "S256",
  });
  location.assign(`${config.issuer}/authorize/?${query}`);
}

async function token(body) {
  const response = await fetch(`${config.issuer}/token/`, {
    method: "POST",
    body: new URLSearchParams({ client_id: config.clientId, ...body }),
  });
  return response.json();
}

async function finish(code) {
  const tokens = await token({
    grant_type: "authorization_code",
    code,
    redirect_uri: config.redirectUri,
    code_verifier: sessionStorage.getItem("verifier"),
  });
  // The Authorization header makes this a preflighted request.
  const userinfo = await fetch(`${config.issuer}/userinfo/`, {
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });
  const refreshed = await token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token });
  const revoked = await fetch(`${config.issuer}/revoke/`, {
    method: "POST",
    body: new URLSearchParams({ token: refreshed.refresh_token, client_id: config.clientId }),
  });
  const replayed = await token({ grant_type: "refresh_token", refresh_token: refreshed.refresh_token });
  report({
    userinfo: await userinfo.json(),
    rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
    refreshed_access_token: Boolean(refreshed.access_token),
    revoke_status: revoked.status,
    after_revoke: replayed.error,
  });
}

async function probe() {
  // From an origin no app registered: the browser must keep the answer from the page.
  try {
    await fetch(`${config.issuer}/userinfo/`, { headers: { Authorization: "Bearer probe" } });
    report({ probe: "readable" });
  } catch {
    report({ probe: "blocked" });
  }
}

const query = new URLSearchParams(location.search);
let run;
if (config.mode === "probe") {
  run = probe();
} else if (query.has("code")) {
  run = finish(query.get("code"));
} else {
  run = start();
}
run.catch((error) => report({ error: String(error) }));
