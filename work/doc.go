// Package work runs the use cases' units of work. A Unit is one transaction
// with what every change needs: its clock, the actor and origin it records
// events with, the one writer of change events, the email outbox, one-time
// links and throttles. The identity and team use cases both make their
// changes through it, so that each change, its event and its emails commit
// together or not at all.
//
// Runner.Do opens a unit at the runner's clock (DoAt at a time the use case
// already read) on behalf of an actor from an origin. Inside it, Record is
// the only way a change event is written (it fills in the event's ID,
// actor, address and time); Mail renders an email and queues it in the
// outbox, to be delivered only once the unit commits; NewToken and Consume
// make and use one-time links, keeping only the SHA-256 of their secret;
// Hit and Limit count requests against throttles kept in the database, so
// limits hold across restarts and processes. A unit that fails on a passing
// conflict is run again from the start, so the function a use case gives Do
// must have no effect outside the unit.
package work
