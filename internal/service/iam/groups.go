package iam

import "github.com/iamd/iamd/internal/service"

func (s *Service) groupHandlers(m map[string]service.Handler) {}
