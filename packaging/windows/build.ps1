# Windows: build the one-folder app twice, compare, sign the executables, make the Inno Setup
# installer, sign it.
#   pwsh packaging/windows/build.ps1 [-OutDir dist] [-SkipSign]
# UNTESTED: written on Linux (packaging/README.md). Needs Python 3.11, Visual Studio Build
# Tools, .venv set up as README.md's Windows section says, the [bundle] extra
# (.venv\Scripts\pip install -e ".[bundle]"), Inno Setup 6 (iscc.exe on PATH) and, to sign,
# the environment of sign.ps1.
param([string]$OutDir = "dist", [switch]$SkipSign)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$py = ".venv\Scripts\python.exe"

if (-not $env:SOURCE_DATE_EPOCH) { $env:SOURCE_DATE_EPOCH = (git log -1 --format=%ct) }
$env:PYTHONHASHSEED = "0"
$env:PYTHONDONTWRITEBYTECODE = "1"

# A snapshot of the commit, so both builds see the same source.
$src = Join-Path ([IO.Path]::GetTempPath()) ("hearth-src-" + [guid]::NewGuid())
New-Item -ItemType Directory $src | Out-Null
git archive --format=zip -o "$src.zip" HEAD
Expand-Archive "$src.zip" $src
New-Item -ItemType Directory "$src\assets\models" -Force | Out-Null
Copy-Item assets\models\*.gguf "$src\assets\models\"

foreach ($b in "a", "b") {
    & $py -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$OutDir\build-$b" `
        --workpath "$OutDir\work-$b" "$src\packaging\hearth.spec"
    if ($LASTEXITCODE -ne 0) { throw "build $b failed" }
}
& $py packaging\compare_builds.py "$OutDir\build-a\Hearth" "$OutDir\build-b\Hearth" |
    Tee-Object "$OutDir\reproducibility.txt"
$app = "$OutDir\Hearth"
if (Test-Path $app) { Remove-Item -Recurse -Force $app }
Move-Item "$OutDir\build-a\Hearth" $app

$version = & $py -c "import engine; print(engine.__version__)"
if (-not $SkipSign) {
    # Every PE file we ship that is not already signed by its maker (Qt and Python DLLs come
    # signed by their vendors in some wheels; ours and the bootloader's are not).
    $unsigned = Get-ChildItem $app -Recurse -Include *.exe, *.dll, *.pyd |
        Where-Object { (Get-AuthenticodeSignature $_.FullName).Status -ne "Valid" } |
        ForEach-Object { $_.FullName }
    & "$PSScriptRoot\sign.ps1" @unsigned
}
iscc "/DSourceDir=$app" "/DAppVersion=$version" "/DOutputDir=$OutDir" packaging\windows\hearth.iss
if ($LASTEXITCODE -ne 0) { throw "iscc failed" }
$setup = "$OutDir\Hearth-$version-windows-x64-setup.exe"
if (-not $SkipSign) { & "$PSScriptRoot\sign.ps1" $setup }
Get-FileHash -Algorithm SHA256 $setup | Format-List
Remove-Item -Recurse -Force $src, "$src.zip", "$OutDir\build-a", "$OutDir\build-b", "$OutDir\work-a", "$OutDir\work-b" -ErrorAction SilentlyContinue
