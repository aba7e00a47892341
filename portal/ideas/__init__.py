"""Design suggestions: customers send design and manufacturing ideas, vendor
engineers answer them within a promised time; engineers propose ideas too."""
