-- Artifact collections, versions, aliases, manifests, blobs and the lineage edges.

CREATE TABLE artifact_collections (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id),
    name        text NOT NULL,
    type        text NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (project_id, name)
);
CREATE INDEX artifact_collections_by_type ON artifact_collections (project_id, type, id);

CREATE TABLE artifact_versions (
    id              bigserial PRIMARY KEY,
    collection_id   bigint NOT NULL REFERENCES artifact_collections (id),
    -- denormalised from the collection (immutable) so access checks in lineage need no join
    project_id      bigint NOT NULL REFERENCES projects (id),
    version_index   integer,
    state           text NOT NULL CHECK (state IN ('PENDING', 'COMMITTED', 'DELETED')),
    digest          text NOT NULL,
    description     text,
    metadata        jsonb NOT NULL DEFAULT '{}',
    size            bigint NOT NULL DEFAULT 0,
    file_count      integer NOT NULL DEFAULT 0,
    ttl_seconds     integer CHECK (ttl_seconds IS NULL OR ttl_seconds >= 0),
    -- created_at + ttl_seconds, kept by the service (timestamptz + interval is not
    -- immutable, so it cannot be an index expression)
    expires_at      timestamptz,
    -- the run that first logged it (loggedBy); later dedup logs live in artifact_logs only
    logged_by       bigint NOT NULL REFERENCES runs (id),
    -- user aliases asked for at log time, applied when the version commits
    pending_aliases text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    committed_at    timestamptz,
    deleted_at      timestamptz,
    UNIQUE (collection_id, version_index),
    CHECK ((state = 'PENDING') = (version_index IS NULL))
);
CREATE INDEX artifact_versions_by_digest ON artifact_versions (collection_id, digest)
    WHERE state = 'COMMITTED';
CREATE INDEX artifact_versions_pending ON artifact_versions (created_at) WHERE state = 'PENDING';
CREATE INDEX artifact_versions_expiring ON artifact_versions (expires_at)
    WHERE state = 'COMMITTED' AND expires_at IS NOT NULL;

-- User aliases only: "latest" and "vN" are derived from version_index.
CREATE TABLE artifact_aliases (
    collection_id   bigint NOT NULL REFERENCES artifact_collections (id),
    alias           text NOT NULL,
    version_id      bigint NOT NULL REFERENCES artifact_versions (id),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX artifact_aliases_unique ON artifact_aliases (collection_id, lower(alias));
CREATE INDEX artifact_aliases_by_version ON artifact_aliases (version_id);

-- Paths use the "C" collation: byte order (as the digest is defined) and prefix scans on
-- the primary key index.
CREATE TABLE manifest_entries (
    version_id  bigint NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    path        text COLLATE "C" NOT NULL,
    digest      text NOT NULL,
    size        bigint,
    ref         text,
    extra       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (version_id, path)
);
-- "which live versions need this blob" for the collector
CREATE INDEX manifest_entries_by_blob ON manifest_entries (digest) WHERE ref IS NULL;

-- Content-addressed blobs the store holds (verified); unneeded_since starts the GC grace.
CREATE TABLE blobs (
    sha256          text PRIMARY KEY,
    size            bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    unneeded_since  timestamptz
);

-- LOGGED edges (run -> version), one per (run, version); seq orders "oldest first".
CREATE TABLE artifact_logs (
    run_id      bigint NOT NULL REFERENCES runs (id),
    version_id  bigint NOT NULL REFERENCES artifact_versions (id),
    seq         bigserial NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, version_id)
);
CREATE INDEX artifact_logs_by_run ON artifact_logs (run_id, seq);
CREATE INDEX artifact_logs_by_version ON artifact_logs (version_id, run_id);

-- USED edges (version -> run), one per (run, version); seq orders "first use".
CREATE TABLE artifact_uses (
    version_id  bigint NOT NULL REFERENCES artifact_versions (id),
    run_id      bigint NOT NULL REFERENCES runs (id),
    seq         bigserial NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (version_id, run_id)
);
CREATE INDEX artifact_uses_by_version ON artifact_uses (version_id, seq);
CREATE INDEX artifact_uses_by_run ON artifact_uses (run_id, seq);
