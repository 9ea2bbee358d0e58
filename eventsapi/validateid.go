package eventsapi

// ValidateID checks a project or service id as the client does before any
// request: empty, over 128 bytes, "..", "/", "\", "?", "#", "%", white space
// or control characters are refused. The error wraps ErrInvalidID and names
// the id.
func ValidateID(id string) error { return validateID("ModelArts", id) }
