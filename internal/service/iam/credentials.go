package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) credentialHandlers(m map[string]service.Handler) {}
