// Package arn parses and builds Amazon Resource Names and maps regions to
// partitions.
package arn

import (
	"errors"
	"strings"
)

// ARN is arn:partition:service:region:account:resource.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ErrMalformed is returned by Parse for anything that is not an ARN.
var ErrMalformed = errors.New("arn: malformed")

// Parse splits an ARN into its six parts.
func Parse(s string) (ARN, error) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, ErrMalformed
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] == "" {
		return ARN{}, ErrMalformed
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// IAM builds an IAM ARN (IAM is global: no region).
func IAM(partition, account, resource string) string {
	return "arn:" + partition + ":iam::" + account + ":" + resource
}

// STS builds an STS ARN such as arn:aws:sts::123456789012:assumed-role/r/s.
func STS(partition, account, resource string) string {
	return "arn:" + partition + ":sts::" + account + ":" + resource
}

// Partition returns the partition a region belongs to, following AWS's
// partition table (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e,
// aws-iso-f, aws-eusc). Unknown and empty regions are in "aws".
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// DefaultRegion is the region of a partition's global IAM endpoint, used
// when a request carries no region.
func DefaultRegion(partition string) string {
	switch partition {
	case "aws-cn":
		return "cn-north-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-iso":
		return "us-iso-east-1"
	case "aws-iso-b":
		return "us-isob-east-1"
	}
	return "us-east-1"
}
