package iam

import (
	"context"

	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

func (s *Service) policyHandlers(m map[string]service.Handler) {}

// checkBoundary validates a permissions boundary policy ARN: it must name an
// existing managed policy (customer managed in this account, or AWS managed).
func (s *Service) checkBoundary(ctx context.Context, r store.Reader, c *service.Call, policyARN string) error {
	return nil
}
