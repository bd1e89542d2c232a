{
  description = "Observability Lab: metrics, logs and traces with Python services on the Grafana stack";

  # A release branch, pinned by flake.lock; `nix flake update` moves it.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      formatter = forAllSystems (pkgs: pkgs.nixfmt);

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages =
            with pkgs;
            [
              python313
              uv
              # The docker CLI with its compose v2 plugin; the engine is the host's.
              docker-client
              docker-compose
              # What the tests start for real: PostgreSQL, Prometheus (with promtool),
              # Alertmanager (with amtool), postgres_exporter; wrk for the benchmarks.
              postgresql_17
              prometheus
              prometheus-alertmanager
              prometheus-postgres-exporter
              wrk
              # The lab on a cluster (tutorials/kubernetes.md): a local cluster, its client, Helm.
              kind
              kubectl
              kubernetes-helm
              # Grafana's LogQL/TraceQL grammars for the tests: npm ci --prefix tests/grammars.
              nodejs
              curl
              git
              # wc, sed and the like, which the chapters use; on macOS too, not the BSD ones.
              coreutils
              gnused
            ]
            # Headless Chromium for the browser tests, and taskset for the benchmarks, on Linux.
            ++ lib.optionals stdenv.isLinux [
              chromium
              util-linux
            ];

          env = {
            # uv uses this Python and never downloads one.
            UV_PYTHON = "${pkgs.python313}/bin/python3.13";
            UV_PYTHON_DOWNLOADS = "never";
          }
          // pkgs.lib.optionalAttrs pkgs.stdenv.isLinux {
            CHROMIUM = "${pkgs.chromium}/bin/chromium";
          };

          # The workspace (nox, pytest, ruff come from its dev group), then its virtualenv.
          shellHook = ''
            uv sync --locked
            source .venv/bin/activate
          '';
        };
      });
    };
}
