# Sign files with signtool: SHA-256 file digest, RFC 3161 timestamp (SHA-256), then verify.
#   pwsh packaging/windows/sign.ps1 dist\Hearth\Hearth.exe dist\Hearth\hearth-cli.exe ...
# UNTESTED: written on Linux, where signtool does not exist (packaging/README.md).
#
# The certificate comes from the environment, never from the repository:
#   HEARTH_WINDOWS_CERT_SHA1     thumbprint of a code-signing certificate in the user's or
#                                machine's certificate store (an EV token or HSM works so), or
#   HEARTH_WINDOWS_PFX, HEARTH_WINDOWS_PFX_PASSWORD   a .pfx file and its password (CI secret)
#   HEARTH_TIMESTAMP_URL         RFC 3161 server (default http://timestamp.digicert.com)
# Signing is the one step of a build that reaches the network (the timestamp server); the
# app itself never does.
param([Parameter(Mandatory = $true, ValueFromRemainingArguments = $true)][string[]]$Files)
$ErrorActionPreference = "Stop"

$signtool = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
    Sort-Object FullName -Descending | Select-Object -First 1
if (-not $signtool) { throw "signtool.exe not found: install the Windows SDK" }
$timestamp = if ($env:HEARTH_TIMESTAMP_URL) { $env:HEARTH_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }

$identity = @()
if ($env:HEARTH_WINDOWS_CERT_SHA1) {
    $identity = @("/sha1", $env:HEARTH_WINDOWS_CERT_SHA1)
} elseif ($env:HEARTH_WINDOWS_PFX) {
    $identity = @("/f", $env:HEARTH_WINDOWS_PFX, "/p", $env:HEARTH_WINDOWS_PFX_PASSWORD)
} else {
    throw "set HEARTH_WINDOWS_CERT_SHA1, or HEARTH_WINDOWS_PFX and HEARTH_WINDOWS_PFX_PASSWORD"
}

foreach ($file in $Files) {
    # /fd sha256: file digest; /tr + /td sha256: RFC 3161 timestamp with a SHA-256 digest, so
    # the signature stays valid after the certificate expires.
    & $signtool.FullName sign @identity /fd sha256 /tr $timestamp /td sha256 /d "Hearth" $file
    if ($LASTEXITCODE -ne 0) { throw "signing $file failed" }
    & $signtool.FullName verify /pa /all /v $file | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "the signature of $file does not verify" }
    Write-Host "signed and verified: $file"
}
