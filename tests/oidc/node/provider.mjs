// What the interop scripts share: a fetch that sends every tenant host to loopback and
// trusts the test CA, discovery through it, and the line protocol with the Python test.
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

export const discover = (clientId, secret) =>
  client.discovery(new URL(env.ISSUER), clientId, secret, undefined, {
    [client.customFetch]: fetchVia,
  });
export const print = (data) => process.stdout.write(JSON.stringify(data) + "\n");
export const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
