package iam

import "github.com/iamd/iamd/internal/service"

// credentialHandlers registers the operations on a user's other credentials:
// console passwords, signing certificates, SSH keys, service-specific
// credentials, and the account's server certificates.
func (s *Service) credentialHandlers(m map[string]service.Handler) {
	m["CreateLoginProfile"] = s.createLoginProfile
	m["GetLoginProfile"] = s.getLoginProfile
	m["UpdateLoginProfile"] = s.updateLoginProfile
	m["DeleteLoginProfile"] = s.deleteLoginProfile
	m["ChangePassword"] = s.changePassword

	m["UploadSigningCertificate"] = s.uploadSigningCertificate
	m["ListSigningCertificates"] = s.listSigningCertificates
	m["UpdateSigningCertificate"] = updateStatus(s, signingCertIn)
	m["DeleteSigningCertificate"] = deleteHandler(s, signingCertIn)

	m["UploadSSHPublicKey"] = s.uploadSSHPublicKey
	m["GetSSHPublicKey"] = s.getSSHPublicKey
	m["ListSSHPublicKeys"] = s.listSSHPublicKeys
	m["UpdateSSHPublicKey"] = updateStatus(s, sshKeyIn)
	m["DeleteSSHPublicKey"] = deleteHandler(s, sshKeyIn)

	m["CreateServiceSpecificCredential"] = s.createServiceSpecificCredential
	m["ListServiceSpecificCredentials"] = s.listServiceSpecificCredentials
	m["ResetServiceSpecificCredential"] = s.resetServiceSpecificCredential
	m["UpdateServiceSpecificCredential"] = updateStatus(s, serviceCredIn)
	m["DeleteServiceSpecificCredential"] = deleteHandler(s, serviceCredIn)

	m["UploadServerCertificate"] = s.uploadServerCertificate
	m["GetServerCertificate"] = s.getServerCertificate
	m["ListServerCertificates"] = s.listServerCertificates
	m["UpdateServerCertificate"] = s.updateServerCertificate
	m["DeleteServerCertificate"] = s.deleteServerCertificate
}
