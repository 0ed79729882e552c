package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) inlinePolicyHandlers(m map[string]service.Handler) {}
