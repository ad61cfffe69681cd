-- Browser sessions of the web app: an API key is exchanged once for a random session
-- token, sent back as an HttpOnly cookie. Only the token's sha256 is stored. A session
-- ends when it expires, when its user signs out, or when the key it came from is revoked.
CREATE TABLE web_sessions (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    user_id     bigint NOT NULL REFERENCES users (id),
    api_key_id  bigint NOT NULL REFERENCES api_keys (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
