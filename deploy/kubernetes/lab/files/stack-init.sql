-- usage_stats schema, run once by the postgres image on a fresh volume (PostgreSQL 17).
-- The usage-scraper creates the same schema if it is missing; tests keep the two in agreement.

-- One row per usage event read from Loki, stored once: event_key is the SHA-256 of the stream's
-- labels, the entry's timestamp and its line, so re-reading a window never duplicates.
CREATE TABLE IF NOT EXISTS usage_events (
    event_key   bytea PRIMARY KEY,
    event_time  timestamptz NOT NULL,
    service     text NOT NULL,
    event       text,
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
    labels      jsonb NOT NULL,
    raw_line    text NOT NULL,
    -- Set when the line was not a valid usage event (bad JSON, missing fields); kept as raw.
    bad_reason  text,
    stored_at   timestamptz NOT NULL DEFAULT now()
);

-- "Events per service per hour" and time-range scans.
CREATE INDEX IF NOT EXISTS usage_events_service_time ON usage_events (service, event_time);
CREATE INDEX IF NOT EXISTS usage_events_time ON usage_events (event_time);

-- Where the scraper has read up to, per LogQL query: advanced in the same transaction that
-- stores the events before it.
CREATE TABLE IF NOT EXISTS scraper_position (
    query       text PRIMARY KEY,
    position_ns bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
