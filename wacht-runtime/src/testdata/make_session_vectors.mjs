// Writes session_vectors.json: a JWKS and signed tokens with the outcome each must have.
// The same cases run natively and on wasm32 (src/session_vectors.rs), so the two verifiers
// are held to one set of rules. Run with Node 18+: `node make_session_vectors.mjs`.
import { generateKeyPairSync, sign } from "node:crypto";
import { writeFileSync } from "node:fs";

const ISSUER = "https://vectors.wacht.test";
const NOW = 1_800_000_000;
const b64 = (data) => Buffer.from(data).toString("base64url");

const keys = {
  k1: { ...generateKeyPairSync("ec", { namedCurve: "P-256" }), alg: "ES256", hash: "sha256" },
  k2: { ...generateKeyPairSync("ec", { namedCurve: "P-256" }), alg: "ES256", hash: "sha256" },
  p384: { ...generateKeyPairSync("ec", { namedCurve: "P-384" }), alg: "ES384", hash: "sha384" },
  r1: { ...generateKeyPairSync("rsa", { modulusLength: 2048 }), alg: "RS256", hash: "sha256" },
  ed: { ...generateKeyPairSync("ed25519"), alg: "EdDSA", hash: null },
  // Never published: signs tokens that must not verify.
  stranger: { ...generateKeyPairSync("ec", { namedCurve: "P-256" }), alg: "ES256", hash: "sha256" },
};

const jwks = {
  keys: ["k1", "k2", "p384", "r1", "ed"].map((kid) => ({
    ...keys[kid].publicKey.export({ format: "jwk" }),
    kid,
    alg: keys[kid].alg,
    use: "sig",
  })),
};

function signWith(key, input) {
  const options = key.alg.startsWith("ES") ? { key: key.privateKey, dsaEncoding: "ieee-p1363" } : key.privateKey;
  return b64(sign(key.hash, Buffer.from(input), options));
}

function token({ header, claims, signer, rawPayload }) {
  const input = `${b64(JSON.stringify(header))}.${rawPayload ?? b64(JSON.stringify(claims))}`;
  return `${input}.${signWith(signer, input)}`;
}

const claims = (extra = {}) => ({
  iss: ISSUER, sub: "user_1", sid: "sess_1", iat: NOW - 60, exp: NOW + 600,
  organization_id: "org_1", organization_permissions: ["user:read"], ...extra,
});

const es = (kid, signer = keys[kid], extra = {}) =>
  token({ header: { alg: "ES256", typ: "JWT", ...(kid ? { kid } : {}) }, claims: claims(extra), signer });

const cases = [
  ["es256 with kid", es("k1"), "ok"],
  ["the second key by kid", es("k2"), "ok"],
  ["kid-less, second compatible key verifies", token({ header: { alg: "ES256" }, claims: claims(), signer: keys.k2 }), "ok"],
  ["kid-less, no key verifies", token({ header: { alg: "ES256" }, claims: claims(), signer: keys.stranger }), "invalid_signature"],
  ["unknown kid", token({ header: { alg: "ES256", kid: "nope" }, claims: claims(), signer: keys.k1 }), "unknown_key"],
  ["kid of a key, signed by another", token({ header: { alg: "ES256", kid: "k1" }, claims: claims(), signer: keys.k2 }), "invalid_signature"],
  ["es384", token({ header: { alg: "ES384", kid: "p384" }, claims: claims(), signer: keys.p384 }), "ok"],
  ["rs256", token({ header: { alg: "RS256", kid: "r1" }, claims: claims(), signer: keys.r1 }), "ok"],
  ["eddsa", token({ header: { alg: "EdDSA", kid: "ed" }, claims: claims(), signer: keys.ed }), "ok"],
  ["alg of another key type", token({ header: { alg: "RS256", kid: "k1" }, claims: claims(), signer: keys.r1 }), "algorithm_mismatch"],
  ["expired", es("k1", keys.k1, { exp: NOW - 1 }), "token_expired"],
  ["not yet valid", es("k1", keys.k1, { nbf: NOW + 60 }), "token_not_yet_valid"],
  ["other issuer", es("k1", keys.k1, { iss: "https://evil.test" }), "invalid_issuer"],
  ["no subject", es("k1", keys.k1, { sub: "" }), "missing_subject"],
  ["exp missing", token({ header: { alg: "ES256", kid: "k1" }, claims: { iss: ISSUER, sub: "u" }, signer: keys.k1 }), "invalid_claims"],
  ["permissions of the wrong shape", es("k1", keys.k1, { permissions: ["user:read"] }), "invalid_claims"],
  ["exp out of range", es("k1", keys.k1, { exp: 1e20 }), "invalid_claims"],
  ["duplicate claim names", token({ header: { alg: "ES256", kid: "k1" }, rawPayload: b64(`{"iss":"${ISSUER}","sub":"a","sub":"b","exp":${NOW + 600}}`), signer: keys.k1 }), "malformed_token"],
  ["crit header", token({ header: { alg: "ES256", kid: "k1", crit: ["x"] }, claims: claims(), signer: keys.k1 }), "malformed_token"],
  ["alg none", `${b64(JSON.stringify({ alg: "none" }))}.${b64(JSON.stringify(claims()))}.`, "unsupported_algorithm"],
  ["hs256", token({ header: { alg: "HS256", kid: "k1" }, claims: claims(), signer: keys.k1 }), "unsupported_algorithm"],
];
// Tampering: a valid token's payload swapped for another's.
{
  const good = es("k1").split(".");
  const other = es("k1", keys.k1, { sub: "admin" }).split(".");
  cases.push(["payload swapped", `${good[0]}.${other[1]}.${good[2]}`, "invalid_signature"]);
  cases.push(["signature not base64url", `${good[0]}.${good[1]}.${good[2]}*`, "malformed_token"]);
  cases.push(["four segments", `${good.join(".")}.x`, "malformed_token"]);
}

writeFileSync(
  new URL("./session_vectors.json", import.meta.url),
  JSON.stringify({ issuer: ISSUER, now: NOW, jwks, cases: cases.map(([name, token, expect]) => ({ name, token, expect })) }, null, 1) + "\n",
);
console.log(`${cases.length} cases`);
