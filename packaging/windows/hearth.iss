; Inno Setup 6 script: installs the one-folder Hearth build and, if the person keeps the box
; ticked, a Windows Firewall rule that blocks every outbound connection of Hearth's two
; executables (packaging/EGRESS.md). The rule is removed on uninstall.
; UNTESTED: written on Linux, where Inno Setup does not run (packaging/README.md).
;
;   iscc /DSourceDir=dist\Hearth /DAppVersion=0.1.0 /DOutputDir=dist packaging\windows\hearth.iss
;
; Signing: build.ps1 signs the executables before this runs and the installer after it
; (sign.ps1), so no SignTool directive is needed here.

#ifndef SourceDir
  #error Pass /DSourceDir=<the PyInstaller output folder Hearth>
#endif
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef OutputDir
  #define OutputDir "."
#endif

[Setup]
AppId={{6A0E7C52-6D1B-4C4B-9E51-2C6F0B7A9D31}
AppName=Hearth
AppVersion={#AppVersion}
AppPublisher=Hearth
DefaultDirName={autopf}\Hearth
DefaultGroupName=Hearth
DisableProgramGroupPage=yes
OutputDir={#OutputDir}
OutputBaseFilename=Hearth-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; A firewall rule needs administrator rights.
PrivilegesRequired=admin
WizardStyle=modern
; Reproducible installer: no build time inside it.
TimeStampsInUTC=yes

[Tasks]
Name: "firewall"; Description: "Block all outbound network traffic of Hearth (recommended: Hearth never needs the network)"; GroupDescription: "Privacy:"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Hearth"; Filename: "{app}\Hearth.exe"
Name: "{autodesktop}\Hearth"; Filename: "{app}\Hearth.exe"; Tasks: desktopicon

[Run]
; netsh rather than New-NetFirewallRule: no PowerShell execution policy in the way. One rule
; per executable; "dir=out action=block" wins over any allow rule (EGRESS.md).
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Hearth (local-only)"" dir=out action=block program=""{app}\Hearth.exe"" enable=yes profile=any"; Flags: runhidden; Tasks: firewall; StatusMsg: "Adding the firewall rule…"
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Hearth (local-only)"" dir=out action=block program=""{app}\hearth-cli.exe"" enable=yes profile=any"; Flags: runhidden; Tasks: firewall
Filename: "{app}\Hearth.exe"; Description: "{cm:LaunchProgram,Hearth}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Removes both rules (same name); harmless when the task was not chosen.
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""Hearth (local-only)"""; Flags: runhidden; RunOnceId: "HearthFirewall"
