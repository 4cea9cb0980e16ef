/* USER CODE BEGIN Header */
/*
 * A minimal application in the layout of a CubeMX project (main.c with its
 * USER CODE sections), updated with h7dfu: docs/app-integration.md. Every
 * h7dfu line is inside a USER CODE section, so regenerating the project from
 * its .ioc keeps them. The code outside the sections is what CubeMX writes
 * (here calling the stand-ins in Drivers/h7dfu-standin instead of ST's HAL).
 * CubeMX settings: USB_OTG_FS mode "Disable" and no USB_DEVICE middleware;
 * the h7dfu library drives OTG_FS itself (Core/Src/h7dfu_usb.c).
 */
/* USER CODE END Header */
/* Includes ------------------------------------------------------------------*/
#include "main.h"

/* Private includes ----------------------------------------------------------*/
/* USER CODE BEGIN Includes */
#include "h7_app.h"
#include "h743_port.h"
#include "h7dfu_usb.h"
/* USER CODE END Includes */

/* Private typedef -----------------------------------------------------------*/
/* USER CODE BEGIN PTD */

/* USER CODE END PTD */

/* Private define ------------------------------------------------------------*/
/* USER CODE BEGIN PD */

/* USER CODE END PD */

/* Private macro -------------------------------------------------------------*/
/* USER CODE BEGIN PM */

/* USER CODE END PM */

/* Private variables ---------------------------------------------------------*/

/* USER CODE BEGIN PV */
/* The vector table of startup_stm32h743xx.s, linked at 0x08020000. */
extern const uint32_t g_pfnVectors[];
/* USER CODE END PV */

/* Private function prototypes -----------------------------------------------*/
void SystemClock_Config(void);
static void MX_GPIO_Init(void);
/* USER CODE BEGIN PFP */

/* USER CODE END PFP */

/* Private user code ---------------------------------------------------------*/
/* USER CODE BEGIN 0 */

/* USER CODE END 0 */

int main(void)
{

    /* USER CODE BEGIN 1 */
    /* Interrupts to this image's own vector table, whatever SystemInit() or
     * whoever started us left in VTOR (a debugger starting the image at
     * 0x08020000 leaves the boot address, 0x08000000: the bootloader's). */
    SCB->VTOR = (uint32_t)g_pfnVectors;
    /* USER CODE END 1 */

    /* MCU Configuration--------------------------------------------------------*/

    /* Reset of all peripherals, Initializes the Flash interface and the Systick. */
    HAL_Init();

    /* USER CODE BEGIN Init */

    /* USER CODE END Init */

    /* Configure the system clock */
    SystemClock_Config();

    /* USER CODE BEGIN SysInit */
    /* The h7dfu port's microsecond waits (OTG_FS core reset) count core
     * cycles: tell it the clock SystemClock_Config() set. */
    h743_sysclk_hz_set(SystemCoreClock);
    /* USER CODE END SysInit */

    /* Initialize all configured peripherals */
    MX_GPIO_Init();
    /* USER CODE BEGIN 2 */
    if (!h7dfu_usb_start()) {
        Error_Handler();
    }
    /* USER CODE END 2 */

    /* Infinite loop */
    /* USER CODE BEGIN WHILE */
    while (1) {
        /* USER CODE END WHILE */

        /* USER CODE BEGIN 3 */
        if (h7dfu_usb_task()) {
            HAL_Delay(10); /* let the status stage of DETACH / SET_REPORT finish */
            h7dfu_usb_enter_bootloader();
        }
    }
    /* USER CODE END 3 */
}

/**
 * @brief System Clock Configuration
 * @retval None
 */
void SystemClock_Config(void)
{
    /* CubeMX writes the clock tree of the .ioc here (HAL_PWREx_ConfigSupply,
     * voltage scaling, HAL_RCC_OscConfig, HAL_RCC_ClockConfig) and the HAL
     * updates SystemCoreClock. The stand-in keeps the reset clock, HSI at
     * 64 MHz. USB needs no setting here: h7dfu_usb_start() takes its 48 MHz
     * from HSI48 with the CRS (port/stm32h743/usb_board.c). */
    SystemCoreClock = 64000000UL;
}

/**
 * @brief GPIO Initialization Function
 * @param None
 * @retval None
 */
static void MX_GPIO_Init(void)
{
    /* USER CODE BEGIN MX_GPIO_Init_1 */

    /* USER CODE END MX_GPIO_Init_1 */
    /* USER CODE BEGIN MX_GPIO_Init_2 */

    /* USER CODE END MX_GPIO_Init_2 */
}

/* USER CODE BEGIN 4 */

/* USER CODE END 4 */

/**
 * @brief  This function is executed in case of error occurrence.
 * @retval None
 */
void Error_Handler(void)
{
    /* USER CODE BEGIN Error_Handler_Debug */
    /* Nothing works without USB here: go to the bootloader (DFU mode), so the
     * board can still be updated. */
    h7_app_enter_bootloader(&h7_boot_request, NVIC_SystemReset);
    /* USER CODE END Error_Handler_Debug */
}
