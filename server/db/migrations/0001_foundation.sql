-- Accounts, access, runs and sweeps.
-- Timestamps use clock_timestamp() so rows made in one transaction still order by time.

CREATE TABLE entities (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    is_team     boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    username    text NOT NULL UNIQUE,
    -- the personal entity of the same name
    entity_id   bigint NOT NULL UNIQUE REFERENCES entities (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A user is ADMIN of their personal entity; team creators are the first ADMIN.
CREATE TABLE memberships (
    entity_id   bigint NOT NULL REFERENCES entities (id),
    user_id     bigint NOT NULL REFERENCES users (id),
    role        text NOT NULL CHECK (role IN ('ADMIN', 'MEMBER')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (entity_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- Only the sha256 of a key is stored; key_id is the public handle used to revoke it.
CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    key_id      text NOT NULL UNIQUE,
    user_id     bigint NOT NULL REFERENCES users (id),
    key_hash    bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at  timestamptz
);

CREATE TABLE projects (
    id          bigserial PRIMARY KEY,
    entity_id   bigint NOT NULL REFERENCES entities (id),
    name        text NOT NULL,
    visibility  text NOT NULL DEFAULT 'PRIVATE' CHECK (visibility IN ('PRIVATE', 'PUBLIC', 'OPEN')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (entity_id, name)
);

CREATE TABLE sweeps (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id),
    sweep_id    text NOT NULL,
    name        text,
    config      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (project_id, sweep_id),
    -- target of runs' composite foreign key: a run's sweep is in the run's project
    UNIQUE (id, project_id)
);
CREATE INDEX sweeps_by_project ON sweeps (project_id, created_at, id);

CREATE TABLE runs (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id),
    run_id      text NOT NULL,
    name        text,
    state       text NOT NULL DEFAULT 'RUNNING'
                CHECK (state IN ('RUNNING', 'FINISHED', 'FAILED', 'CRASHED')),
    config      jsonb NOT NULL DEFAULT '{}',
    summary     jsonb NOT NULL DEFAULT '{}',
    sweep_id    bigint,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (project_id, run_id),
    FOREIGN KEY (sweep_id, project_id) REFERENCES sweeps (id, project_id)
);
CREATE INDEX runs_by_project ON runs (project_id, created_at, id);
CREATE INDEX runs_by_sweep ON runs (sweep_id, created_at, id) WHERE sweep_id IS NOT NULL;
