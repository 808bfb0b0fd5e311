package team

// ForgetEverything empties the service's cache, as a start does.
func (s *Service) ForgetEverything() { s.cache.reset() }
