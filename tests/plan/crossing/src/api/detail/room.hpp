// Fixture of scripts/check-includes: a private header of the api module.
#pragma once
