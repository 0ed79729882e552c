package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) accountHandlers(m map[string]service.Handler) {}
