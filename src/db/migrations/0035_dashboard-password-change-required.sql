-- A password an owner reset for someone (docs/dashboard.md "People and roles") is known to two people: the
-- person must choose a new one at the next sign-in before any other page opens. Set by the reset, cleared by
-- the person's own change. Defaulted, so the previous release keeps working on this schema.
ALTER TABLE dashboard_users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;
