package equipe

import "time"

// WebhookEndpoint is a URL that receives signed change events: an
// account's (AccountID set) or the instance's (nil). Types lists the event
// types it subscribes to; WebhookAllTypes alone subscribes to all. Its
// signing secret is kept sealed under the instance's secret key; after a
// rotation the previous secret signs too until PreviousUntil.
type WebhookEndpoint struct {
	ID             ID
	AccountID      *ID
	URL            string
	Description    string
	Types          []string
	Enabled        bool
	DisabledReason string // why the service disabled it ("" when a person did, or when enabled)
	Secret         []byte // sealed
	KeyID          string // the instance key Secret is sealed under
	PreviousSecret []byte // sealed; nil when no rotation is under way
	PreviousKeyID  string
	PreviousUntil  time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookAllTypes is the subscription to every event type.
const WebhookAllTypes = "*"

// WebhookTestType is the type of the message "send test event" delivers.
const WebhookTestType = "webhook.test"

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryQueued     DeliveryStatus = "queued"
	DeliveryProcessing DeliveryStatus = "processing"
	DeliveryDelivered  DeliveryStatus = "delivered"
	DeliveryAbandoned  DeliveryStatus = "abandoned"
)

// WebhookDelivery is one event (or test message) for one endpoint. EventID
// is its webhook-id, the same for every attempt.
type WebhookDelivery struct {
	EndpointID    ID
	EventID       ID
	EventType     string
	Payload       string // a test message's body; "" for an event, built when sent
	Status        DeliveryStatus
	Attempts      int
	NextAttemptAt time.Time
	ResponseCode  int // of the last attempt (0: no answer)
	// LastErrorCode is the last attempt's error as a stable code, a message
	// key (webhooks.error_status…, or webhooks.skipped_while_disabled);
	// LastError says what happened in the words of the network or the
	// receiver, for those who debug it. Both "" after a success.
	LastErrorCode string
	LastError     string
	// Manual marks a delivery whose next attempt is a manual re-delivery,
	// and ManualAttempts counts the manual attempts made: the retry
	// schedule counts the others only.
	Manual         bool
	ManualAttempts int
	CreatedAt      time.Time
	LastAttemptAt  time.Time
	// DeliveredAt is when the latest attempt succeeded: zero unless the
	// delivery is delivered (a re-delivery clears it until it succeeds).
	DeliveredAt time.Time

	// Event is the event's row when the delivery is claimed for sending
	// (nil for a test message, or an event no longer kept).
	Event *AuditEvent
}

// WebhookAttempt is one attempt of a delivery: the answer's status code
// and first kilobyte, or the error that prevented one.
type WebhookAttempt struct {
	ID           ID
	EndpointID   ID
	EventID      ID
	At           time.Time
	Duration     time.Duration
	ResponseCode int
	Response     string
	ErrorCode    string // as the delivery's LastErrorCode
	Error        string
}
