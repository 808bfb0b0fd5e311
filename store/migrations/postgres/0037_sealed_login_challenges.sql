-- A login challenge's secret is sealed (the challenge's ID, its person and
-- its times, under the instance key), and neither it nor its hash is kept:
-- the password step records the challenge without waiting, the second step
-- records its use, either may come first, and a challenge is known by its ID.
ALTER TABLE login_challenges DROP COLUMN hash;
