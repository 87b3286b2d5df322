-- Stand-in: operations accepted while their back office was unavailable, judged by the last balance it
-- confirmed. Each user's money accepted that way and not yet executed is kept per currency, so one
-- guarded update bounds it by the configured limit, as account_holds bounds a hold by the balance.
CREATE TABLE stand_in_exposure (
    user_id      TEXT NOT NULL REFERENCES users (id),
    currency     TEXT NOT NULL,
    queued_minor BIGINT NOT NULL CHECK (queued_minor >= 0),
    PRIMARY KEY (user_id, currency)
);

-- 1 when the hold was placed in stand-in: releasing it also releases the user's stand-in exposure.
ALTER TABLE holds ADD COLUMN stand_in BIGINT NOT NULL DEFAULT 0;
