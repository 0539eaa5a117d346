; Inno Setup script for Impasto on Windows. NOT TESTED: Windows cannot be built here.
;
; 1. On Windows, build the bundle:   py -3.11 installer\build.py   (-> dist\Impasto\)
; 2. Compile this script:            iscc installer\windows\impasto.iss
;    (add /DFlavour=cuda and point /DBundle at dist\cuda\Impasto for the CUDA flavour)
; Output: dist\Impasto-<version>-windows-x64-cpu-setup.exe, a per-user install (no admin rights).

#define AppName "Impasto"
; The version, from the first line of engine/version.py: __version__ = "X.Y.Z"
#define VersionFile FileOpen(AddBackslash(SourcePath) + "..\..\engine\version.py")
#define VersionLine FileRead(VersionFile)
#expr FileClose(VersionFile)
#define AppVersion Copy(VersionLine, 16, Len(VersionLine) - 16)
#ifndef Flavour
  #define Flavour "cpu"
#endif
#ifndef Bundle
  #define Bundle "..\..\dist\Impasto"
#endif

[Setup]
AppId={{6B1F6E52-3C1B-4F0C-9C55-6D0A2F4E1A77}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Impasto
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-{#Flavour}-setup
SetupIconFile=..\..\resources\icon.ico
UninstallDisplayIcon={app}\Impasto.exe
Compression=lzma2/max
SolidCompression=yes
; Inno Setup needs DiskSpanning=yes above 4,200,000,000 compressed bytes; only the CUDA
; flavour could come near that (setup.exe plus Setup-*.bin files are then shipped together).
DiskSpanning=no
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\Impasto.exe"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\Impasto.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Impasto.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; Model weights downloaded by the app live in %LOCALAPPDATA%\Impasto\models and are kept on
; uninstall, like other user data.
