-- Stage 5's dice database, and stages 6's and 7's (their compose files mount this file), run
-- once by the postgres image on a fresh volume (PostgreSQL 17). The die-service creates the same
-- table and seed when they are missing; a test keeps the two in agreement
-- (tests/integration/test_stage5_compose_sql.py).
CREATE TABLE IF NOT EXISTS dice (
    name              text PRIMARY KEY,
    faces             integer[] NOT NULL,
    weights           double precision[],
    failure_rate      double precision NOT NULL DEFAULT 0,
    slow_rate         double precision NOT NULL DEFAULT 0,
    delay_min_seconds double precision NOT NULL DEFAULT 0,
    delay_max_seconds double precision NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
);

INSERT INTO dice
    (name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds)
VALUES
    ('fair', '{1,2,3,4,5,6}', NULL, 0, 0, 0, 0),
    ('risky', '{1,2,3,4,5,6}', NULL, 0.1, 0.2, 0.5, 1.5),
    ('loaded', '{1,2,3,4,5,6}', '{1,1,1,1,1,5}', 0, 0, 0, 0),
    ('d20', '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20}', NULL, 0, 0, 0, 0),
    ('coin', '{0,1}', NULL, 0, 0.05, 0.1, 0.3)
ON CONFLICT (name) DO NOTHING;
