// A containerDisk image layer (launcher/src/images/layer_reader.h) from any bytes, read with
// libarchive (tar, tar+gzip, tar+zstd): never a crash; a disk found is a regular file the
// collector made inside its work dir, nothing is written beside it, and a layer whose
// digest does not match is always refused.
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "images/layer_reader.h"

namespace {

namespace fs = std::filesystem;

// Deliberately never destroyed: the atexit handler that removes the directory runs after
// static destructors registered later, so it must not read a destroyed string.
const std::string& Root() {
  static const std::string* const root = [] {
    char tmpl[] = "/tmp/k6t-layer-fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    auto* dir = new std::string(tmpl);
    std::atexit([] { fs::remove_all(Root()); });
    return dir;
  }();
  return *root;
}

k6t::launcher::images::ByteReader Reader(const uint8_t* data, size_t size) {
  return [data, size, pos = size_t{0}](void* buf, size_t len) mutable -> ssize_t {
    const size_t n = std::min(len, size - pos);
    std::memcpy(buf, data + pos, n);
    pos += n;
    return static_cast<ssize_t>(n);
  };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string work = Root() + "/work";
  fs::remove_all(work);
  fs::create_directory(work);
  k6t::launcher::images::DiskCollector disk(work, "");
  if (disk.ApplyLayer(Reader(data, size), "", "layer 1").ok()) {
    if (auto file = disk.Result(); file.ok()) {
      struct stat st {};
      if (file->rfind(work + "/", 0) != 0 || lstat(file->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        std::abort();
    }
  }
  // The same bytes again as a later layer (its whiteouts now act on layer 1), with a digest
  // they cannot have.
  const std::string wrong = "sha256:" + std::string(64, '0');
  if (disk.ApplyLayer(Reader(data, size), wrong, "layer 2").ok()) std::abort();
  for (const auto& entry : fs::directory_iterator(Root()))
    if (entry.path() != work) std::abort();  // nothing outside the work dir
  return 0;
}
