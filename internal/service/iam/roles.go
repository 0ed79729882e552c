package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) roleHandlers(m map[string]service.Handler) {}
