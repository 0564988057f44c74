# Every third-party dependency, found once. All come from Debian packages installed by
# hack/install-deps.sh.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET libnftables)
pkg_check_modules(LIBVIRT REQUIRED IMPORTED_TARGET libvirt libvirt-qemu)
# Cloud-init ISOs (libisofs) and containerDisk image layers (libarchive), in-process.
pkg_check_modules(LIBISOFS REQUIRED IMPORTED_TARGET libisofs-1)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
# The KubeVirt hook sidecar's gRPC (libgrpc++-dev, libprotobuf-dev) and its code generators
# (protobuf-compiler, protobuf-compiler-grpc), run at build time on sidecar/proto/.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++ protobuf)
find_program(K6T_PROTOC protoc REQUIRED)
find_program(K6T_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
if(K6T_BUILD_TESTS)
  find_package(GTest REQUIRED)
  # The CNI conformance runner (test/netns/handler/cni_conformance) is Go over libcni's source
  # (golang-go, golang-github-appc-cni-dev), built offline in GOPATH mode; skipped without them.
  find_program(K6T_GO go)
  find_path(K6T_LIBCNI_GOPATH src/github.com/containernetworking/cni/libcni/api.go
            PATHS /usr/share/gocode NO_DEFAULT_PATH)
endif()
if(K6T_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
