/* fixture
{
  "findings": ["public.signups_email_key", "public.signups_email_lower_idx"],
  "remaining": ["public.signups_email_key"]
}
*/
-- Violates invalid-indexes: a unique index built concurrently over duplicate values fails
-- and leaves an invalid index behind, exactly as it happens in production.
CREATE TABLE signups (email text);
INSERT INTO signups VALUES ('a@example.test'), ('a@example.test');
-- fixture: expect error
CREATE UNIQUE INDEX CONCURRENTLY signups_email_key ON signups (email);

-- A build that failed for a passing reason, as a cancelled or timed-out one does: here the
-- index expression refuses while a setting is on. Rebuilt later, it succeeds.
CREATE FUNCTION fixture_fragile_lower(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_setting('fixture.fail_builds', true) = 'on' THEN
    RAISE EXCEPTION 'index build interrupted';
  END IF;
  RETURN lower(t);
END $$;
SET fixture.fail_builds = on;
-- fixture: expect error
CREATE INDEX CONCURRENTLY signups_email_lower_idx ON signups (fixture_fragile_lower(email));
RESET fixture.fail_builds;
