-- The PostgreSQL store, layout version 1 (lib/pgstore.py). Every row belongs to one workspace,
-- and every table but `workspaces` names it: deleting the workspace deletes all of its rows.
CREATE TABLE workspaces (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    -- Bumped by every snapshot saved or deleted: what an app process's cached push counts check.
    revision BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE snapshots (
    workspace TEXT NOT NULL REFERENCES workspaces (key) ON DELETE CASCADE,
    as_of DATE NOT NULL,
    deals INTEGER NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace, as_of)
);
CREATE TABLE snapshot_deals (
    workspace TEXT NOT NULL,
    as_of DATE NOT NULL,
    opportunity_id TEXT,
    name TEXT,
    account TEXT,
    owner TEXT,
    stage TEXT,
    status TEXT,
    amount NUMERIC(18, 2),
    currency TEXT,
    close_date DATE,
    created_date DATE,
    probability DOUBLE PRECISION,
    forecast_category TEXT,
    lead_source TEXT,
    type TEXT,
    last_activity_date DATE,
    next_step TEXT,
    team TEXT,
    manager TEXT,
    late_stage BOOLEAN,
    FOREIGN KEY (workspace, as_of) REFERENCES snapshots (workspace, as_of) ON DELETE CASCADE
);
CREATE INDEX snapshot_deals_by_date ON snapshot_deals (workspace, as_of);
CREATE TABLE snapshot_stages (
    workspace TEXT NOT NULL,
    as_of DATE NOT NULL,
    position INTEGER NOT NULL,
    stage TEXT NOT NULL,
    PRIMARY KEY (workspace, as_of, position),
    FOREIGN KEY (workspace, as_of) REFERENCES snapshots (workspace, as_of) ON DELETE CASCADE
);
CREATE TABLE last_data (
    workspace TEXT NOT NULL REFERENCES workspaces (key) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    digest TEXT NOT NULL,
    data BYTEA NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace, kind)
);
CREATE TABLE saved_choices (
    workspace TEXT NOT NULL REFERENCES workspaces (key) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workspace, key)
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    workspace TEXT NOT NULL REFERENCES workspaces (key) ON DELETE CASCADE,
    done_at TIMESTAMP NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE INDEX audit_by_workspace ON audit (workspace, done_at);
