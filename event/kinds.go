package event

// The kinds of events, in the order the audit log lists them: a team's life
// first, then roles, contacts, resources, clients, keys, the account, and a
// person's own identity. docs/events.md describes each one.

// An account's members and their invitations; each is about the member's
// user.
var (
	MemberAdded             = declare[None, Added]("member.added", SubjectUser)
	InvitationSent          = declare[Member, Invitation]("invitation.sent", SubjectUser)
	InvitationResent        = declare[Member, Invitation]("invitation.resent", SubjectUser)
	InvitationRevoked       = declare[Member, Member]("invitation.revoked", SubjectUser)
	MemberJoined            = declare[None, Join]("member.joined", SubjectUser)
	MemberChanged           = declare[Member, Member]("member.changed", SubjectUser)
	MemberSuspended         = declare[Member, Member]("member.suspended", SubjectUser)
	MemberReactivated       = declare[Member, Member]("member.reactivated", SubjectUser)
	MemberPasswordResetSent = declare[None, None]("member.password_reset_sent", SubjectUser)
	MemberRemoved           = declare[Member, None]("member.removed", SubjectUser)
)

// Imports of members from a file; each is about the account. Each member
// the import adds or changes gets its own event besides (member.added,
// member.changed, invitation.sent).
var (
	MembersImported = declare[None, Import]("members.imported", SubjectAccount)
)

// An account's custom roles; each is about the role's key.
var (
	RoleCreated = declare[None, Role]("role.created", SubjectRole)
	RoleChanged = declare[Role, Role]("role.changed", SubjectRole)
	RoleDeleted = declare[Role, RoleRemoval]("role.deleted", SubjectRole)
)

// An account's contacts.
var (
	ContactCreated = declare[None, Contact]("contact.created", SubjectContact)
	ContactChanged = declare[Contact, Contact]("contact.changed", SubjectContact)
	ContactDeleted = declare[Contact, None]("contact.deleted", SubjectContact)
)

// An account's resources.
var (
	ResourceCreated  = declare[None, Resource]("resource.created", SubjectResource)
	ResourceChanged  = declare[Resource, Resource]("resource.changed", SubjectResource)
	ResourceArchived = declare[Resource, Resource]("resource.archived", SubjectResource)
	ResourceRestored = declare[Resource, Resource]("resource.restored", SubjectResource)
)

// A firm's client accounts; each is about the client account, and is
// recorded in the firm's log (a detachment in the client's too).
var (
	ClientStaffAssigned   = declare[None, Staff]("client.staff_assigned", SubjectAccount)
	ClientStaffUnassigned = declare[Staff, None]("client.staff_unassigned", SubjectAccount)
	ClientDetached        = declare[Detachment, None]("client.detached", SubjectAccount)
)

// API keys, of an account or of the instance (no account).
var (
	KeyCreated = declare[None, Key]("api_key.created", SubjectKey)
	KeyRevoked = declare[None, Revocation]("api_key.revoked", SubjectKey)
)

// Webhook endpoints, of an account or of the instance (no account); each
// is about the endpoint. A secret is never part of their states.
var (
	WebhookCreated       = declare[None, Webhook]("webhook.created", SubjectWebhook)
	WebhookChanged       = declare[Webhook, Webhook]("webhook.changed", SubjectWebhook)
	WebhookDeleted       = declare[Webhook, None]("webhook.deleted", SubjectWebhook)
	WebhookSecretRotated = declare[None, None]("webhook.secret_rotated", SubjectWebhook)
	// The service disabled an endpoint whose deliveries failed throughout
	// their retries (actor system).
	WebhookDisabled = declare[Webhook, Webhook]("webhook.disabled", SubjectWebhook)
)

// Accounts.
var (
	AccountCreated = declare[None, NewAccount]("account.created", SubjectAccount)
	AccountChanged = declare[Settings, Settings]("account.changed", SubjectAccount)
	// An account deleted with everything in it, by one of its
	// administrators or the instance: in the instance's log, its own having
	// gone with it.
	AccountDeleted = declareOwn[Settings, None]("account.deleted", SubjectAccount)
)

// A person's own identity: in no account's log.
var (
	UserLoggedIn               = declareOwn[None, None]("user.logged_in", SubjectSession)
	UserLoginFailed            = declareOwn[None, None]("user.login_failed", SubjectUser)
	UserLoggedOut              = declareOwn[None, None]("user.logged_out", SubjectSession)
	UserEmailVerified          = declareOwn[None, Address]("user.email_verified", SubjectUser)
	UserPasswordResetRequested = declareOwn[None, None]("user.password_reset_requested", SubjectUser)
	UserPasswordReset          = declareOwn[None, Sessions]("user.password_reset", SubjectUser)
	UserPolicyAccepted         = declareOwn[None, Policy]("user.policy_accepted", SubjectPolicy)
	UserProfileChanged         = declareOwn[Profile, Profile]("user.profile_changed", SubjectUser)
	UserPasswordChanged        = declareOwn[None, Sessions]("user.password_changed", SubjectUser)
	// A notification address: asked for (a link is sent to it), confirmed
	// (notifications go there), cancelled before its confirmation, removed.
	UserNotificationEmailRequested = declareOwn[None, Address]("user.notification_email_requested", SubjectUser)
	UserNotificationEmailConfirmed = declareOwn[None, Address]("user.notification_email_confirmed", SubjectUser)
	UserNotificationEmailCancelled = declareOwn[Address, None]("user.notification_email_cancelled", SubjectUser)
	UserNotificationEmailRemoved   = declareOwn[Address, None]("user.notification_email_removed", SubjectUser)
	UserEmailChangeRequested       = declareOwn[None, EmailChange]("user.email_change_requested", SubjectUser)
	UserEmailChangeResent          = declareOwn[None, EmailChange]("user.email_change_resent", SubjectUser)
	UserEmailChangeWithdrawn       = declareOwn[None, EmailChange]("user.email_change_withdrawn", SubjectUser)
	UserEmailChanged               = declareOwn[Address, Address]("user.email_changed", SubjectUser)
	UserEmailChangeCancelled       = declareOwn[None, EmailCancel]("user.email_change_cancelled", SubjectUser)
	InstanceAdminCreated           = declareOwn[None, Address]("instance_admin.created", SubjectUser)
	// A person's data downloaded, by themself or an instance administrator.
	UserDataExported = declareOwn[None, None]("user.data_exported", SubjectUser)
	// A person's identity erased; the subject is the pseudonym that the
	// audit log names them by from then on.
	UserDeleted = declareOwn[None, Deletion]("user.deleted", SubjectUser)
	// A person ends one of their sessions (another browser), or its owner's
	// every other session, or an instance administrator every session of a
	// user.
	UserSessionEnded  = declareOwn[None, None]("user.session_ended", SubjectSession)
	UserSessionsEnded = declareOwn[None, Sessions]("user.sessions_ended", SubjectUser)
	// A person turns their new-browser emails on or off.
	UserAlertsChanged = declareOwn[Alerts, Alerts]("user.alerts_changed", SubjectUser)
	// An instance administrator or instance key disables a person's
	// identity (every session ended, no login, every check denied), or
	// enables it again: each account the person is a member of hears of it.
	UserDisabled = declareAboutMembers[None, Sessions]("user.disabled")
	UserEnabled  = declareAboutMembers[None, None]("user.enabled")
	// The instance sets or clears the vendor's identifier of a person.
	UserExternalIDChanged = declareOwn[ExternalID, ExternalID]("user.external_id_changed", SubjectUser)
	// An instance administrator removes every second factor of a person,
	// with a reason, after checking who asks (docs/security.md).
	UserSecondFactorsRemoved = declareOwn[Factors, FactorRemoval]("user.second_factors_removed", SubjectUser)
)

// A person's passkeys: in no account's log.
var (
	UserPasskeyAdded   = declareOwn[None, Passkey]("user.passkey_added", SubjectPasskey)
	UserPasskeyRenamed = declareOwn[Passkey, Passkey]("user.passkey_renamed", SubjectPasskey)
	UserPasskeyRemoved = declareOwn[Passkey, None]("user.passkey_removed", SubjectPasskey)
)

// A person's second factors and the second step of their logins: in no
// account's log.
var (
	UserTOTPEnrolmentStarted     = declareOwn[None, None]("user.totp_enrolment_started", SubjectUser)
	UserSecondFactorAdded        = declareOwn[None, Factor]("user.second_factor_added", SubjectUser)
	UserSecondFactorRemoved      = declareOwn[Factor, None]("user.second_factor_removed", SubjectUser)
	UserRecoveryCodesRegenerated = declareOwn[None, RecoveryCodes]("user.recovery_codes_regenerated", SubjectUser)
	UserRecoveryCodeUsed         = declareOwn[None, RecoveryCodes]("user.recovery_code_used", SubjectUser)
	UserSecondStepRequired       = declareOwn[None, None]("user.second_step_required", SubjectUser)
	UserSecondFactorFailed       = declareOwn[None, None]("user.second_factor_failed", SubjectUser)
)

// The instance's privacy policy.
var (
	PolicyPublished = declareOwn[None, PolicyLink]("policy.published", SubjectPolicy)
	// PolicyWithdrawn: a version published ahead of its date, withdrawn
	// before it took effect.
	PolicyWithdrawn = declareOwn[PolicyLink, None]("policy.withdrawn", SubjectPolicy)
)

// The instance's brand, as its administrators set it (docs/branding.md);
// about the instance's "brand".
var (
	InstanceBrandChanged = declareOwn[Brand, Brand]("instance.brand_changed", SubjectInstance)
)

// The instance's OpenID Connect clients; each is about the client. A
// secret is never part of their states.
var (
	OIDCClientCreated       = declareOwn[None, OIDCClient]("oidc_client.created", SubjectOIDCClient)
	OIDCClientSecretRotated = declareOwn[None, None]("oidc_client.secret_rotated", SubjectOIDCClient)
	OIDCClientChanged       = declareOwn[OIDCClient, OIDCClient]("oidc_client.changed", SubjectOIDCClient)
	OIDCClientDeleted       = declareOwn[OIDCClient, None]("oidc_client.deleted", SubjectOIDCClient)
	// A person agrees to what a client that is not first-party asks (the
	// scopes, remembered so that they are not asked again), or withdraws
	// that consent (ending the client's grants).
	UserOIDCConsentGiven     = declareOwn[None, Consent]("user.oidc_consent_given", SubjectOIDCClient)
	UserOIDCConsentWithdrawn = declareOwn[Consent, None]("user.oidc_consent_withdrawn", SubjectOIDCClient)
)
