// Number formatting shared by the JSON writers: rounded for a stable, readable document.
#pragma once

#include <cmath>

#include <nlohmann/json.hpp>

#include "teye/model/types.h"

namespace teye::json {

using Json = nlohmann::ordered_json;

// Numbers are rounded for a stable, readable document: ms to the µs, shares to 1e-4.
inline double Round(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  double r = std::round(v * scale) / scale;
  return r == 0 ? 0.0 : r;  // no "-0"
}
inline double Ms(double ns) {
  return Round(ns / kNsPerMs, 3);
}
inline double Us(double ns) {
  return Round(ns / kNsPerUs, 3);
}
inline double Share(double v) {
  return Round(v, 4);
}
inline double Pct(double v) {
  return Round(v, 2);
}

}  // namespace teye::json
