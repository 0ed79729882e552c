package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) providerHandlers(m map[string]service.Handler) {}
