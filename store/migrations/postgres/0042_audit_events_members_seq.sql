-- The events of a person's own identity that each account they are a
-- member of hears of (event.MemberTypes: the identity disabled or enabled
-- again), few, in an index of their own by number: an account's change
-- stream finds them after its cursor here, without reading every login and
-- other event of people's identities since. The list is the one the stream's
-- statement names (store.memberKinds), word for word.
CREATE INDEX audit_events_members_seq ON audit_events (seq) WHERE action IN ('user.disabled', 'user.enabled');
