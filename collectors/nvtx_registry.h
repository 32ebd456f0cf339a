// NVTX domains and registered strings, shared by every NVTX instance in the process.
//
// Handles given to NVTX users are small integers (index + 1), so any handle can be checked
// before use. Each entry keeps the chained tool's own handle (TEYE_NVTX_CHAIN) and the
// collector's interned id of its text, made lazily per collector so that ids stay right when
// tests create several collectors.
#pragma once

#include <cstdint>

#include "nvtx_abi.h"

namespace teye::collector {

class Collector;

namespace nvtx_impl {

// Index of a domain (0: the default domain, also for unknown handles).
uint32_t DomainIndex(nvtx::DomainHandle h);
// The chained tool's handle for one of ours (nullptr when none).
nvtx::DomainHandle NextDomain(nvtx::DomainHandle h);
nvtx::StringHandle NextString(nvtx::StringHandle h);
bool IsNcclDomain(uint32_t index);

// The collector's string id for a domain's name / a registered string (0 when unknown).
uint32_t DomainNameId(Collector& c, uint32_t index);
uint32_t RegisteredStringId(Collector& c, nvtx::StringHandle h);

// Registration (nvtxDomainCreate*, nvtxDomainRegisterString*): a new handle, or the existing
// one for a domain name seen before; nullptr when the table is full or out of memory.
nvtx::DomainHandle CreateDomain(const char* name, nvtx::DomainHandle next);
nvtx::StringHandle RegisterString(const char* text, nvtx::StringHandle next);

// fork(): holds the registration lock across fork (prepare: true; parent and child: false).
void LockRegistryForFork(bool lock);

}  // namespace nvtx_impl
}  // namespace teye::collector
