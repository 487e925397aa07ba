// Calibration math (compiler/Calibrator.h) and SHA-256 (support/Sha256.h). The expected entropy
// thresholds come from the independent numpy implementation in tests/scripts/calib_reference.py.
#include "compiler/Calibrator.h"
#include "support/Sha256.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace infc;

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[calibration]") {
  using support::sha256Hex;
  CHECK(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Padding edge cases: 55 bytes (length fits in the same block) and 64 bytes (a full block).
  CHECK(sha256Hex(std::string(55, 'a')) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(sha256Hex(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  CHECK(sha256Hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("entropy calibration picks TensorRT's KL threshold", "[calibration]") {
  std::vector<uint64_t> zeros(kCalibBins, 0);
  CHECK(entropyAmax(zeros, 0.5) == 0.0);

  // Values only in the first 100 bins: with 128 kept bins nothing is clipped and each quantized
  // level holds one bin, so Q == P and the divergence is 0 at the first candidate.
  std::vector<uint64_t> narrow(kCalibBins, 0);
  for (int k = 0; k < 100; ++k)
    narrow[static_cast<size_t>(k)] = static_cast<uint64_t>(1000 - 7 * k);
  CHECK(entropyAmax(narrow, 0.01) == Approx(128.5 * 0.01));

  // A flat histogram: clipping always costs more than merging, so every bin is kept (the
  // threshold is then the top of the range, amax itself).
  std::vector<uint64_t> flat(kCalibBins, 1);
  CHECK(entropyAmax(flat, 1.0) == 2048.0);

  // Few distinct values with the largest the most frequent (an 8-bit image's background at
  // max |x|): keeping every bin has zero divergence; any clipping threshold moves the background.
  std::vector<uint64_t> levels(kCalibBins, 0);
  for (int v = 0; v < 8; ++v)
    levels[static_cast<size_t>(v * 256)] = 50;
  levels[kCalibBins - 1] = 1000;
  CHECK(entropyAmax(levels, 1.0 / 2048) == 1.0);

  // A bell curve with a comb of small counts (numpy reference: 1011.5).
  std::vector<uint64_t> bell(kCalibBins);
  for (int k = 0; k < kCalibBins; ++k)
    bell[static_cast<size_t>(k)] = static_cast<uint64_t>(std::floor(1e6 * std::exp(-(k / 300.0) * (k / 300.0)))) + (k % 7 == 0 ? 3 : 0);
  CHECK(entropyAmax(bell, 1.0) == 1011.5);
  CHECK(entropyAmax(bell, 0.25) == 1011.5 * 0.25);
}

TEST_CASE("percentile and histogram bins", "[calibration]") {
  std::vector<uint64_t> h(kCalibBins, 0);
  h[0] = 10;
  h[100] = 1;
  CHECK(percentileAmax(h, 0.5, 90.0) == 0.5);           // 9.9 of 11 reached in bin 0
  CHECK(percentileAmax(h, 0.5, 100.0) == 101 * 0.5);    // the right edge of bin 100
  CHECK(percentileAmax(std::vector<uint64_t>(kCalibBins, 0), 0.5, 99.0) == 0.0);
  CHECK(calibBin(0.0, 2.0) == 0);
  CHECK(calibBin(2.0, 2.0) == kCalibBins - 1); // amax itself lands in the last bin
  CHECK(calibBin(1.0, 2.0) == kCalibBins / 2);
}

TEST_CASE("calibration methods parse by name", "[calibration]") {
  CHECK(*parseCalibMethod("entropy") == CalibMethod::Entropy);
  CHECK(*parseCalibMethod("percentile") == CalibMethod::Percentile);
  CHECK(*parseCalibMethod("minmax") == CalibMethod::MinMax);
  CHECK(!parseCalibMethod("kl").isOk());
  CHECK(std::string(calibMethodName(CalibMethod::Percentile)) == "percentile");
}
