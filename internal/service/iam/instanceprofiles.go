package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) instanceProfileHandlers(m map[string]service.Handler) {}
