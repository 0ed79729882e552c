package organizations

import (
	"context"
	"net/http"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/service"
)

// unsupportedHandlers answers the operations iamd cannot perform with the
// errors AWS gives an organization that is not eligible for them.
func (s *Service) unsupportedHandlers(m map[string]service.Handler) {
	m["CreateGovCloudAccount"] = s.createGovCloudAccount
	m["InviteOrganizationToTransferResponsibility"] = s.transferNotAvailable
	m["ListInboundResponsibilityTransfers"] = s.listTransfers
	m["ListOutboundResponsibilityTransfers"] = s.listTransfers
	m["DescribeResponsibilityTransfer"] = s.transferNotFound
	m["UpdateResponsibilityTransfer"] = s.transferNotFound
	m["TerminateResponsibilityTransfer"] = s.transferNotFound
}

// createGovCloudAccount: GovCloud accounts need a management account
// enabled for AWS GovCloud (US); no iamd account is.
func (s *Service) createGovCloudAccount(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	if _, err := s.asManager(ctx, s.Store, c); err != nil {
		return nil, err
	}
	return nil, constraint("MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED", "The management account is not enabled for AWS GovCloud (US).")
}

// iamd keeps no billing-transfer relationships: listings are empty and no
// transfer id exists.
func (s *Service) listTransfers(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	if _, err := s.asManager(ctx, s.Store, c); err != nil {
		return nil, err
	}
	return map[string]any{"ResponsibilityTransfers": []any{}}, nil
}

func (s *Service) transferNotFound(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	if _, err := s.asManager(ctx, s.Store, c); err != nil {
		return nil, err
	}
	return nil, errf("ResponsibilityTransferNotFoundException", "We can't find a responsibility transfer with the Id that you specified.")
}

func (s *Service) transferNotAvailable(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	if _, err := s.asManager(ctx, s.Store, c); err != nil {
		return nil, err
	}
	return nil, &apierr.Error{Code: "AccessDeniedException", Message: "Billing transfer is not available to this organization.", Status: http.StatusBadRequest}
}
