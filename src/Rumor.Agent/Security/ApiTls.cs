using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rumor.Agent.Security;

/// <summary>
/// The API's HTTPS certificate (<see cref="ApiSettings.TlsCertificateFile"/>): a PKCS#12 file
/// (<c>.pfx</c>, <c>.p12</c>) or PEM, with its key in the same file or in
/// <see cref="ApiSettings.TlsKeyFile"/>. Read once at start; a file that cannot be used is an
/// <see cref="AgentConfigurationException"/> naming it.
/// </summary>
internal static class ApiTls
{
    public static X509Certificate2 Load(ApiSettings api)
    {
        string path = Path.GetFullPath(api.TlsCertificateFile ?? throw new ArgumentException("No certificate file is set.", nameof(api)));
        try
        {
            X509Certificate2 certificate;
            string extension = Path.GetExtension(path);
            if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, api.TlsCertificatePassword);
            }
            else
            {
                string keyPath = api.TlsKeyFile is { } key ? Path.GetFullPath(key) : path;
                certificate = api.TlsCertificatePassword is { } password
                    ? X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
                    : X509Certificate2.CreateFromPemFile(path, keyPath);
            }

            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                throw new AgentConfigurationException($"TlsCertificate {path} holds no private key: give the key in the same file or in TlsKey.");
            }

            return certificate;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new AgentConfigurationException($"TlsCertificate {path} cannot be used: {e.Message.TrimEnd()}", e);
        }
    }
}
